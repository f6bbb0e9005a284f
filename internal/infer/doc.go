// Package infer writes a first Avro schema from sample files: it unifies
// columns across files by sluice's own name matching and picks, for each
// column, the narrowest type whose coercion delivers every sample value Ok.
package infer
