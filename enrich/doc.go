// Package enrich adds fields to records from external HTTP JSON lookups,
// batch by batch: one cache read per batch (Redis or in-process), each
// missing key fetched once under a rate limit, one cache write back.
package enrich
