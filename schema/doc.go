// Package schema loads, resolves and checks sluice's Avro schemas.
//
// It keeps hamba/avro behind its own small API: a Registry of versioned
// schemas, a Type model the normaliser compiles against, a Value that encodes
// to Avro (which is how every Ok record is validated) and to JSON documents,
// and backward-compatibility checks between versions.
package schema
