// Command initpath is the baseline of the cold-start benchmark: the init
// path every sluice Lambda shares (read sluice.yaml, parse the schemas,
// load the AWS configuration, build a Firehose client), then the Lambda
// runtime loop with a handler that does nothing.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/sluicehq/sluice/internal/awsenv"
	"github.com/sluicehq/sluice/internal/config"
)

func main() {
	// As the Lambdas do: the config, its schemas and each rollup's
	// generated schema, checked together.
	if _, _, err := config.LoadAll(config.PathFromEnv()); err != nil {
		log.Fatal(err)
	}
	awsCfg, err := awsenv.Load(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	_ = firehose.NewFromConfig(awsCfg)
	lambda.Start(func(ctx context.Context) error { return nil })
}
