// Package jsonx is a small, allocation-free JSON scanner for sluice's hot
// paths: envelopes, bare records and Firehose events. It validates what it
// reads and aliases unescaped strings instead of copying them.
package jsonx
