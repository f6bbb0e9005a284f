// Package redrive reads dead-letter objects (Firehose's processing-failed
// records and the splitter's) from a folder or S3, explains why they fail
// now by re-running the transform, and puts them back into a stream.
package redrive
