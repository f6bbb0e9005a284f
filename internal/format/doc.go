// Package format splits a stream of bytes into raw records: csv, jsonl, elb,
// alb and lines. Every format is a Scanner whose Next returns records until
// io.EOF, reads with constant memory, and passes the same conformance suite.
package format
