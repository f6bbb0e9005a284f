package splitter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Files reads local files as objects: the bucket is a folder (none: the
// current one) and the key a path below it. It lets the CLI run the same
// handler on local files.
type Files struct{}

// GetObject implements GetObjectAPI.
func (Files) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f, err := os.Open(filepath.Join(aws.ToString(in.Bucket), filepath.FromSlash(aws.ToString(in.Key))))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "no such file: " + aws.ToString(in.Key), Fault: smithy.FaultClient}
		}
		return nil, fmt.Errorf("splitter: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("splitter: %w", err)
	}
	return &s3.GetObjectOutput{Body: f, ContentLength: aws.Int64(st.Size())}, nil
}

// ParseS3URL splits s3://bucket/key. ok is false for anything else.
func ParseS3URL(u string) (bucket, key string, ok bool) {
	rest, found := strings.CutPrefix(u, "s3://")
	if !found {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, bucket != ""
}
