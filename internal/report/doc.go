// Package report builds what a person reads after `sluice run`: where
// every input column went (a field by name, alias or folding, extra, or
// nowhere), what each field got (delivered, coerced, null, defaulted,
// preserved, failed) with sample bad values, and the failures by reason,
// as report.json and a self-contained report.html.
package report
