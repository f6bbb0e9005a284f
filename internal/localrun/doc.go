// Package localrun runs the whole pipeline on one machine, with the same
// handlers as the Lambdas: local files are routed and split, put into an
// in-process Firehose emulator, transformed, and delivered into a folder laid
// out like Firehose's S3 destination. It counts every record so that
// in = Ok + Dropped + Failed + splitter dead letters can be checked.
package localrun
