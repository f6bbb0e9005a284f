// Command transform is the transform Lambda: Firehose invokes it with each
// buffered batch. Configuration, schemas and clients are built once, at
// cold start; see internal/transform for the handler.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/config"
)

func main() {
	h, err := app.NewTransform(context.Background(), config.PathFromEnv())
	if err != nil {
		// A broken config is a systemic fault: fail the init so it shows.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The handler implements lambda.Handler: it reads the event and writes
	// the response itself (see transform.Handler.Invoke).
	lambda.Start(h)
}
