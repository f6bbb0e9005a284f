// Package localfirehose is an in-process Kinesis Data Firehose for local
// runs: PutRecordBatch with Firehose's limits, the processor buffer, the
// transform's response contract, and S3-style delivery into a folder.
package localfirehose
