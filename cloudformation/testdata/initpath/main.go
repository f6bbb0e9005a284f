// Command initpath is the baseline of the cold-start benchmark: the init
// path every sluice Lambda shares (read sluice.yaml, parse the schemas,
// load the AWS configuration, build a Firehose client), then the Lambda
// runtime loop with a handler that does nothing.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/schema"
)

func main() {
	cfg, err := config.Load(config.PathFromEnv())
	if err != nil {
		log.Fatal(err)
	}
	reg, err := schema.Shipped()
	if err != nil {
		log.Fatal(err)
	}
	if err := cfg.CheckSchemas(reg.Has); err != nil {
		log.Fatal(err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	_ = firehose.NewFromConfig(awsCfg)
	lambda.Start(func(ctx context.Context) error { return nil })
}
