// Package a is a fixture for the code scanner.
package a

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"example.com/fixture/b"
)

const deadLetter = "DEAD_LETTER_BUCKET"

type objects interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

func run(ctx context.Context, c objects, name string) {
	_ = os.Getenv(b.EnvPath)
	_, _ = os.LookupEnv(deadLetter)
	_ = os.Getenv("LITERAL_VAR")
	_ = os.Getenv(name)
	_ = os.ExpandEnv("${X}")
	_, _ = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), VersionId: aws.String("v")})
	_ = &firehose.PutRecordBatchInput{}
	_ = sm.GetSecretValueInput{}
	_ = types.ObjectCannedACLPrivate
}
