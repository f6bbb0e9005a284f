// Package chaos injects faults into a pipeline's clients, drawn from a
// seeded generator so a run can be repeated exactly, and checks afterwards
// that every record id the splitter produced ended delivered, dropped,
// failed or dead-lettered (sluice run -chaos).
//
// Each fault is a wrapper around the interface its consumer declares:
// the Firehose PutRecordBatch client, the transform invocation, the S3
// read, the S3 events, the enrichment cache and the lookup API's HTTP
// transport.
package chaos
