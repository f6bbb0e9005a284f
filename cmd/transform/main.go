// Command transform is the transform Lambda: Firehose invokes it with each
// buffered batch. Configuration, schemas and clients are built once, at
// cold start; see internal/transform for the handler.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/transform"
)

func main() {
	var opts []transform.Option
	if lambdacontext.MaxConcurrency() <= 1 {
		// One invocation at a time: the invoke loop has sent a response
		// before it asks for the next event, so the next response can be
		// written into its memory.
		opts = append(opts, transform.WithReusedResponse())
	}
	h, err := app.NewTransform(context.Background(), config.PathFromEnv(), opts...)
	if err != nil {
		// A broken config is a systemic fault: fail the init so it shows.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The handler implements lambda.Handler: it reads the event and writes
	// the response itself (see transform.Handler.Invoke).
	lambda.Start(h)
}
