// Package firehose holds sluice's side of the Kinesis Data Firehose
// contracts: the transform response (Response) and the PutRecordBatch
// producer used by the splitter, the transform's overflow and redrive.
package firehose
