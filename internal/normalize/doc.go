// Package normalize turns a record's raw fields into a record Value of an
// Avro schema: it matches field names loosely (case, spaces, punctuation and
// aliases), coerces strings to the target types, fills defaults, keeps
// unmatched fields in the schema's "extra" map and attaches provenance.
package normalize
