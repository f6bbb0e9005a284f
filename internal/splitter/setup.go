package splitter

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/redisx"
)

// NewAWS builds a Handler on AWS clients made from awsCfg: S3 (objects and
// dead letters), Firehose, Lambda (continuations) and, when REDIS_URL is
// set, Redis checkpoints (see redisx.New for its forms). The handler and its Firehose producers count into
// m. opts come last and override.
func NewAWS(cfg *config.Config, awsCfg aws.Config, m *metrics.Set, opts ...Option) (*Handler, error) {
	s3c := s3.NewFromConfig(awsCfg)
	base := []Option{WithInvoker(lambda.NewFromConfig(awsCfg), ""), WithMetrics(m)}
	client, err := redisx.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("splitter: %w", err)
	}
	if client != nil {
		base = append(base, WithCheckpoints(NewRedisStore(client, 0)))
	} else {
		slog.Warn("REDIS_URL is unset: checkpoints and done markers last only as long as this process")
	}
	if cfg.DeadLetter.Bucket == "" && os.Getenv("DEAD_LETTER_BUCKET") == "" {
		slog.Warn("no dead-letter bucket (dead_letter.bucket or DEAD_LETTER_BUCKET): an object with a bad line will fail until one is set")
	}
	h, err := New(cfg, s3c, NewFirehoseSink(firehose.NewFromConfig(awsCfg), WithStreams(cfg.Streams), WithSinkMetrics(m)), append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("splitter: %w", err)
	}
	return h, nil
}
