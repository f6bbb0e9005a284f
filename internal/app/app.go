package app

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/awsenv"
	"github.com/sluicehq/sluice/internal/config"
	sfirehose "github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// EnvEnrichSecret names the secret the deployed stack created for lookups;
// an enricher with no secret of its own uses it.
const EnvEnrichSecret = "SLUICE_ENRICH_SECRET_ARN"

// Enrichers builds the config's enrichers at cold start: secrets are read
// once, and the cache is Redis at REDIS_URL, else in-process.
func Enrichers(ctx context.Context, cfg *config.Config, reg *schema.Registry, opts ...enrich.Option) ([]transform.Enricher, error) {
	if len(cfg.Enrichers) == 0 {
		return nil, nil
	}
	cache, err := enrich.NewCacheFromEnv()
	if err != nil {
		return nil, err
	}
	out := make([]transform.Enricher, 0, len(cfg.Enrichers))
	for i, ec := range cfg.Enrichers {
		if ec.Secret == "" {
			if arn := os.Getenv(EnvEnrichSecret); arn != "" {
				ec.Secret = "secretsmanager:" + arn
			}
		}
		e, err := enrich.New(ctx, ec, append([]enrich.Option{enrich.WithCache(cache)}, opts...)...)
		if err != nil {
			return nil, fmt.Errorf("%s: enrichers[%d]: %w", cfg.Path, i, err)
		}
		s, _ := reg.Latest(ec.Schema)
		if err := e.CheckSchema(s); err != nil {
			return nil, fmt.Errorf("%s: enrichers[%d]: %w", cfg.Path, i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// NewTransform builds the transform Lambda's handler from the config at
// configPath: its schemas, enrichers and the Firehose client that
// re-ingests response overflow.
func NewTransform(ctx context.Context, configPath string, opts ...transform.Option) (*transform.Handler, error) {
	cfg, reg, err := config.LoadAll(configPath)
	if err != nil {
		return nil, err
	}
	enrichers, err := Enrichers(ctx, cfg, reg, enrich.WithAWSConfig(awsenv.Load))
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsenv.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: AWS configuration: %w", err)
	}
	re := &sfirehose.Reingester{Client: firehose.NewFromConfig(awsCfg), Limits: sfirehose.NewRateLimits(cfg.Streams)}
	opts = append([]transform.Option{transform.WithEnrichers(enrichers...), transform.WithReingester(re)}, opts...)
	return transform.New(cfg, reg, opts...)
}
