// Package pipetest runs a pipeline's own tests: folders of cases, each an
// input folder, an optional config, and the documents and failures
// expected, compared field by field with what a local run produces.
package pipetest
