// Package metrics writes CloudWatch Embedded Metric Format (EMF) lines:
// JSON log lines that CloudWatch Logs turns into metrics with no API call.
package metrics
