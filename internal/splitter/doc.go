// Package splitter is the splitter Lambda's handler: it takes S3, SQS and
// EventBridge events for new objects, routes each object to a format, schema
// and delivery stream, streams it (gzip or not) into envelope records, puts
// them into Firehose through a Sink, dead-letters what cannot be parsed and
// checkpoints its progress so a big object continues in a new invocation.
package splitter
