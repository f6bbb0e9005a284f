package splitter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DeadLetterStore keeps the dead-letter objects the splitter writes: each
// is JSON lines of deadletter.Record. Names are deterministic, so a retried
// invocation overwrites rather than duplicates.
type DeadLetterStore interface {
	WriteDeadLetters(ctx context.Context, name string, body []byte) error
}

// PutObjectAPI is the S3 call S3DeadLetters needs.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3DeadLetters writes dead letters to Bucket under Prefix.
type S3DeadLetters struct {
	Client PutObjectAPI
	Bucket string
	Prefix string
}

// WriteDeadLetters implements DeadLetterStore.
func (s *S3DeadLetters) WriteDeadLetters(ctx context.Context, name string, body []byte) error {
	if s.Bucket == "" {
		return fmt.Errorf("splitter: no dead-letter bucket (set dead_letter.bucket in the config or DEAD_LETTER_BUCKET)")
	}
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(s.Bucket),
		Key:         aws.String(s.Prefix + name),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/x-ndjson"),
	})
	if err != nil {
		return fmt.Errorf("splitter: dead letters to s3://%s/%s%s: %w", s.Bucket, s.Prefix, name, err)
	}
	return nil
}

// WriterDeadLetters writes dead letters to W (the CLI's stderr).
type WriterDeadLetters struct{ W io.Writer }

// WriteDeadLetters implements DeadLetterStore.
func (w WriterDeadLetters) WriteDeadLetters(_ context.Context, _ string, body []byte) error {
	if _, err := w.W.Write(body); err != nil {
		return fmt.Errorf("splitter: dead letters: %w", err)
	}
	return nil
}

// deadLetterPartBytes is the most the splitter holds before writing a part.
const deadLetterPartBytes = 4 << 20

// deadLetterName names a part: the object's id and the index of the part's
// first record. A retry from the same checkpoint starts its first part at
// the same record, so it overwrites the part a failed attempt wrote.
func deadLetterName(o Object, firstIndex int64) string {
	return fmt.Sprintf("%s/%012d.jsonl", ObjectID(o), firstIndex)
}

// deadLetterPrefix returns the configured prefix with a trailing slash.
func deadLetterPrefix(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// ExportStore keeps the plain CSV totals a rollup route's export writes.
// Names are deterministic, so a retried segment overwrites its file.
type ExportStore interface {
	WriteExport(ctx context.Context, bucket, key string, body []byte) error
}

// S3Exports writes exports with PutObject.
type S3Exports struct{ Client PutObjectAPI }

// WriteExport implements ExportStore.
func (s S3Exports) WriteExport(ctx context.Context, bucket, key string, body []byte) error {
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("text/csv"),
	})
	if err != nil {
		return fmt.Errorf("splitter: rollup export to s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
