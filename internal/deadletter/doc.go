// Package deadletter reads and writes dead-letter records: Firehose's
// processing-failed error records, and the splitter's own records for lines
// it cannot parse, which share that shape and add a reason and provenance.
package deadletter
