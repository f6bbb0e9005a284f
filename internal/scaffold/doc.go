// Package scaffold writes a starting sluice project: a commented
// sluice.yaml, a schema, a small sample input and a test case, so that
// `sluice run` and `sluice test` work in it at once.
package scaffold
