// Package transform is the transform Lambda's handler: it takes a Firehose
// batch, normalises every record against its Avro schema, enriches it,
// validates it by encoding it, and answers each record Ok, Dropped or
// ProcessingFailed within Firehose's response and time limits.
package transform
