package firehose

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/internal/metrics"
)

// Reingester puts records back into a delivery stream with a Producer: the
// transform's way out when a response would exceed Firehose's 6 MB limit.
type Reingester struct {
	Client  PutRecordBatchAPI
	Limits  map[string]*RateLimit
	Metrics *metrics.Set
}

// Reingest sends records to stream and returns once every one is
// acknowledged, or an error naming how many were not.
func (r *Reingester) Reingest(ctx context.Context, stream string, records [][]byte) error {
	p, err := New(r.Client, Options{Stream: stream, Limit: r.Limits[stream], Metrics: r.Metrics})
	if err != nil {
		return err
	}
	for _, rec := range records {
		if err := p.Add(ctx, rec); err != nil {
			return fmt.Errorf("firehose: re-ingest: %w", err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("firehose: re-ingest: %w", err)
	}
	return nil
}
