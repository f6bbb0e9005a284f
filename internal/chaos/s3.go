package chaos

import (
	"context"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/splitter"
)

// Files wraps the splitter's S3 reads: a body may break off halfway, as a
// connection reset or a Lambda killed mid-object would leave it. The
// splitter fails the object, and the next attempt (see Split) resumes from
// its checkpoint.
func (in *Injector) Files(next splitter.GetObjectAPI) splitter.GetObjectAPI {
	return &filesFaults{in: in, next: next}
}

type filesFaults struct {
	in   *Injector
	next splitter.GetObjectAPI
}

func (f *filesFaults) GetObject(ctx context.Context, req *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := f.next.GetObject(ctx, req, opts...)
	if err != nil || out.ContentLength == nil || *out.ContentLength < 2 || !f.in.fire(ReadInterrupted, []byte(aws.ToString(req.Bucket)), []byte(aws.ToString(req.Key))) {
		return out, err
	}
	out.Body = &brokenBody{ReadCloser: out.Body, left: *out.ContentLength / 2}
	return out, nil
}

// errReset is the interrupted read.
var errReset = errors.New("chaos: read: connection reset by peer")

type brokenBody struct {
	io.ReadCloser
	left int64
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errReset
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// Events delivers the S3 events of objs as S3 may: some twice, some out of
// order.
func (in *Injector) Events(objs []splitter.Object) []splitter.Object {
	out := make([]splitter.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o)
		if in.fire(EventDuplicated, []byte(o.Bucket), []byte(o.Key)) {
			out = append(out, o)
		}
	}
	for i := 0; i+1 < len(out); i++ {
		if in.fire(EventReordered, []byte(out[i].Bucket), []byte(out[i].Key)) {
			out[i], out[i+1] = out[i+1], out[i]
		}
	}
	return out
}

// MaxAttempts bounds how often Split tries one event, as an SQS queue's
// maxReceiveCount does.
const MaxAttempts = 50

// SplitFunc splits one object, as splitter.Handler.Split does.
type SplitFunc = func(ctx context.Context, o splitter.Object) (splitter.Result, error)

// Split retries an object whose split failed, as SQS redelivers a message
// (the checkpoint makes the next attempt resume), and adds up what each
// attempt sent and dead-lettered.
func (in *Injector) Split(next SplitFunc) SplitFunc {
	return func(ctx context.Context, o splitter.Object) (splitter.Result, error) {
		var sent, dead int64
		var err error
		for attempt := 0; attempt < MaxAttempts; attempt++ {
			var res splitter.Result
			res, err = next(ctx, o)
			sent, dead = sent+res.Sent, dead+res.DeadLettered
			if err == nil {
				res.Sent, res.DeadLettered = sent, dead
				return res, nil
			}
			if ctx.Err() != nil {
				break
			}
		}
		return splitter.Result{Sent: sent, DeadLettered: dead}, err
	}
}
