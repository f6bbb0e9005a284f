// Command splitter is the splitter Lambda: it splits new S3 objects into
// Firehose records. Triggers: S3 notifications, S3 → SQS (with
// ReportBatchItemFailures) and EventBridge "Object Created" events.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sluicehq/sluice/internal/awsenv"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter"
	"github.com/sluicehq/sluice/internal/topology"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, _, err := config.LoadAll(config.PathFromEnv())
	if err == nil {
		// A cycle would split and deliver the same records for ever.
		_, err = topology.Build(cfg)
	}
	if err != nil {
		log.Error("config", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsenv.Load(context.Background())
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	h, err := splitter.NewAWS(cfg, awsCfg, metrics.New(os.Stdout, metrics.Dim{Name: "Function", Value: "splitter"}),
		splitter.WithLogger(log))
	if err != nil {
		log.Error("splitter", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
