package firehose

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Result strings of a transform response, exactly as Firehose expects them.
const (
	Ok               = events.KinesisFirehoseTransformedStateOk
	Dropped          = events.KinesisFirehoseTransformedStateDropped
	ProcessingFailed = events.KinesisFirehoseTransformedStateProcessingFailed
)

// Response is a transform Lambda's answer to Firehose. It mirrors
// events.KinesisFirehoseResponse but omits metadata when a record has no
// partition keys: aws-lambda-go's struct always writes "metadata" (and,
// since v1.47, empty Iceberg routing fields), which streams without dynamic
// partitioning or Iceberg destinations have no use for.
type Response struct {
	Records []ResponseRecord `json:"records"`
}

// ResponseRecord is one record of a Response.
type ResponseRecord struct {
	RecordID string    `json:"recordId"`
	Result   string    `json:"result"`
	Data     []byte    `json:"data"`
	Metadata *Metadata `json:"metadata,omitempty"`
}

// Metadata carries the keys for dynamic partitioning.
type Metadata struct {
	PartitionKeys map[string]string `json:"partitionKeys"`
}

// Processor is a transform handler as Firehose (or the local emulator)
// invokes it.
type Processor func(ctx context.Context, ev events.KinesisFirehoseEvent) (Response, error)
