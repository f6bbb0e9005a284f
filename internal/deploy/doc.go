// Package deploy generates the CloudFormation template that deploys a
// sluice.yaml as one stack: one splitter, one Firehose delivery stream per
// configured stream, one shared transform, and the buckets, notifications,
// dead letters, network, alarms and dashboard around them. The command is
// `sluice deploy template`.
package deploy
