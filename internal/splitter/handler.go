package splitter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/metrics"
)

// GetObjectAPI is the S3 call the splitter reads objects with.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// InvokeAPI is the Lambda call the splitter continues itself with.
type InvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// OpenFormat opens a format's Scanner; format.New is the default.
type OpenFormat func(name string, r io.Reader, opts format.Options) (format.Scanner, error)

// DefaultDeadlineMargin is the time kept free before the invocation
// deadline to flush, checkpoint and hand the rest on.
const DefaultDeadlineMargin = 10 * time.Second

// MaxHops bounds how many times one event is continued: a guard against
// an object that can never finish.
const MaxHops = 100

// Handler splits the objects an event announces. Build it once (New) and
// call Handle per invocation; it is not for concurrent use.
type Handler struct {
	cfg         *config.Config
	router      *router
	s3          GetObjectAPI
	sink        Sink
	deadLetters DeadLetterStore
	exports     ExportStore
	checkpoints CheckpointStore
	invoker     InvokeAPI
	function    string
	metrics     *metrics.Set
	log         *slog.Logger
	openFormat  OpenFormat
	now         func() time.Time
	margin      time.Duration
	flushEvery  int
}

// Option sets one of the Handler's injectables.
type Option func(*Handler)

// WithDeadLetters sets where dead letters go. Default: S3 at the config's
// dead_letter bucket and prefix if the S3 client can PutObject.
func WithDeadLetters(d DeadLetterStore) Option { return func(h *Handler) { h.deadLetters = d } }

// WithExports sets where rollup routes' CSV exports go. Default: S3, if
// the S3 client can PutObject.
func WithExports(e ExportStore) Option { return func(h *Handler) { h.exports = e } }

// WithCheckpoints sets the checkpoint store. Default: a MemoryStore.
func WithCheckpoints(c CheckpointStore) Option { return func(h *Handler) { h.checkpoints = c } }

// WithInvoker lets the handler continue a direct or EventBridge event by
// invoking function (a name or ARN; default: the invoked function)
// asynchronously. Without it, an unfinished object fails the invocation so
// Lambda's own retry continues it.
func WithInvoker(c InvokeAPI, function string) Option {
	return func(h *Handler) { h.invoker, h.function = c, function }
}

// WithMetrics sets the EMF metric set. Default: none.
func WithMetrics(m *metrics.Set) Option { return func(h *Handler) { h.metrics = m } }

// WithLogger sets the logger. Default: JSON lines on stderr.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithFormats sets the format opener. Default: format.New.
func WithFormats(f OpenFormat) Option { return func(h *Handler) { h.openFormat = f } }

// WithClock sets the clock (deadline checks, ingested_at). Default: time.Now.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a Handler reading objects with s3 and putting records into sink.
func New(cfg *config.Config, s3c GetObjectAPI, sink Sink, opts ...Option) (*Handler, error) {
	r, err := newRouter(cfg.Routes)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg: cfg, router: r, s3: s3c, sink: sink,
		checkpoints: NewMemoryStore(),
		log:         slog.New(slog.NewJSONHandler(os.Stderr, nil)),
		openFormat:  format.New,
		now:         time.Now,
		margin:      DefaultDeadlineMargin,
		flushEvery:  5000,
	}
	if p, ok := s3c.(PutObjectAPI); ok {
		bucket := cfg.DeadLetter.Bucket
		if bucket == "" {
			bucket = os.Getenv("DEAD_LETTER_BUCKET")
		}
		h.deadLetters = &S3DeadLetters{Client: p, Bucket: bucket, Prefix: deadLetterPrefix(cfg.DeadLetter.Prefix)}
		h.exports = S3Exports{Client: p}
	}
	for _, o := range opts {
		o(h)
	}
	if h.deadLetters == nil {
		return nil, fmt.Errorf("splitter: no dead-letter store (the S3 client cannot PutObject; use WithDeadLetters)")
	}
	return h, nil
}

// Handle is the Lambda entry point. It detects the event shape: an SQS
// event gets an events.SQSEventResponse listing the messages to retry;
// the other shapes get nil, or an error when the invocation should be
// retried as a whole.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	defer h.flushMetrics()
	ev, err := parseEvent(raw)
	if err != nil {
		h.log.Error("unreadable event", "err", err)
		return nil, err
	}
	stopAt := h.stopAt(ctx)
	if ev.shape == ShapeSQS {
		return h.handleSQS(ctx, ev, stopAt), nil
	}
	m := ev.messages[0]
	if m.test {
		h.log.Info("s3:TestEvent acknowledged")
		return nil, nil
	}
	for i, o := range m.objects {
		res, err := h.split(ctx, o, nil, stopAt)
		if err != nil {
			return nil, err
		}
		if res.Status == StatusContinue {
			return nil, h.continueLater(ctx, ev.hop+1, m.objects[i:])
		}
	}
	return nil, nil
}

func (h *Handler) handleSQS(ctx context.Context, ev parsedEvent, stopAt time.Time) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	stopped := false
	for _, m := range ev.messages {
		switch {
		case stopped:
			fail(m.id)
			continue
		case m.test:
			h.log.Info("s3:TestEvent acknowledged", "message", m.id)
			continue
		case m.err != nil:
			// Left to SQS's redrive policy: it lands in the queue's DLQ.
			h.log.Error("unreadable message", "message", m.id, "err", m.err)
			fail(m.id)
			continue
		}
		for _, o := range m.objects {
			res, err := h.split(ctx, o, nil, stopAt)
			if err != nil {
				h.log.Error("object failed, message will be retried", "message", m.id, "bucket", o.Bucket, "key", o.Key, "err", err)
				fail(m.id)
				break
			}
			if res.Status == StatusContinue {
				h.metrics.Add("Continuations", metrics.Count, 1)
				fail(m.id)
				stopped = true
				break
			}
		}
	}
	return resp
}

// stopAt is when to stop starting new work: the deadline less the margin.
func (h *Handler) stopAt(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return d.Add(-h.margin)
}

// ContinueError is an unfinished event the handler could not hand on.
type ContinueError struct {
	Objects int
	Reason  string
}

func (e *ContinueError) Error() string {
	return fmt.Sprintf("splitter: %d object(s) unfinished at the deadline: %s", e.Objects, e.Reason)
}

// continueLater invokes the function asynchronously with the unfinished
// objects. Their checkpoints tell the next invocation where to resume.
func (h *Handler) continueLater(ctx context.Context, hop int, objs []Object) error {
	h.metrics.Add("Continuations", metrics.Count, 1)
	if hop > MaxHops {
		return &ContinueError{Objects: len(objs), Reason: fmt.Sprintf("gave up after %d continuations", MaxHops)}
	}
	fn := h.function
	if fn == "" {
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			fn = lc.InvokedFunctionArn
		}
	}
	if h.invoker == nil || fn == "" {
		// Lambda's async retry re-runs the event; checkpoints resume it.
		return &ContinueError{Objects: len(objs), Reason: "no Lambda client to continue with; leaving it to Lambda's retry"}
	}
	payload, err := json.Marshal(continuationEvent{Sluice: continueMarker, Hop: hop, Objects: objs})
	if err != nil {
		return fmt.Errorf("splitter: continuation: %w", err)
	}
	_, err = h.invoker.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(fn),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return fmt.Errorf("splitter: continuation invoke: %w", err)
	}
	h.log.Info("continuing in a new invocation", "objects", len(objs), "hop", hop)
	return nil
}

func (h *Handler) flushMetrics() {
	if err := h.metrics.Flush(); err != nil {
		h.log.Error("metrics", "err", err)
	}
}
