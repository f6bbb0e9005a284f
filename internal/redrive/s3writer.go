package redrive

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PutObjectAPI is what writing parked records to S3 needs.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Writer writes objects under s3://Bucket/Prefix.
type S3Writer struct {
	Client PutObjectAPI
	Bucket string
	Prefix string
}

// WriteObject puts body at Prefix+key.
func (w S3Writer) WriteObject(ctx context.Context, key string, body []byte) error {
	_, err := w.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(w.Bucket), Key: aws.String(w.Prefix + key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return fmt.Errorf("redrive: put s3://%s/%s%s: %w", w.Bucket, w.Prefix, key, err)
	}
	return nil
}
