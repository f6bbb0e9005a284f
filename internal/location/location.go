// Package location reads the objects under a location given on the
// command line: a file, a folder (recursively) or s3://bucket/prefix.
// The commands that read sluice's outputs back (rollup query, redrive)
// share it.
package location

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is what reading an s3:// location needs.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// IsS3 reports whether loc names an s3:// location.
func IsS3(loc string) bool { return strings.HasPrefix(loc, "s3://") }

// SplitS3 splits s3://bucket/prefix; what starts its errors.
func SplitS3(what, loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%s: %q is not an s3:// location", what, loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s: %q names no bucket (write s3://bucket/prefix)", what, loc)
	}
	return bucket, prefix, nil
}

// Walker reads every object under a location.
type Walker struct {
	// What starts the walker's own errors ("redrive", "rollup").
	What string
	// S3 reads an s3:// location.
	S3 S3API
	// Skip, when set, leaves out a path (a folder with everything in it)
	// or s3://bucket/key for which it reports true.
	Skip func(name string) bool
}

// Walk calls read with each object under loc and its name (the file's
// path, or s3://bucket/key), in path or key order. Hidden files are left
// out: they include the Firehose emulator's partial writes. An error from
// read is returned as it is and ends the walk.
func (w Walker) Walk(ctx context.Context, loc string, read func(name string, r io.Reader) error) error {
	if IsS3(loc) {
		return w.walkS3(ctx, loc, read)
	}
	info, err := os.Stat(loc)
	if err != nil {
		return fmt.Errorf("%s: %w", w.What, err)
	}
	if !info.IsDir() {
		return w.file(loc, read)
	}
	return filepath.WalkDir(loc, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", w.What, err)
		}
		if w.Skip != nil && w.Skip(path) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return w.file(path, read)
	})
}

func (w Walker) file(path string, read func(string, io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", w.What, err)
	}
	defer f.Close()
	return read(path, f)
}

func (w Walker) walkS3(ctx context.Context, loc string, read func(string, io.Reader) error) error {
	bucket, prefix, err := SplitS3(w.What, loc)
	if err != nil {
		return err
	}
	if w.S3 == nil {
		return fmt.Errorf("%s: an s3:// location needs an S3 client", w.What)
	}
	pages := s3.NewListObjectsV2Paginator(w.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("%s: list s3://%s/%s: %w", w.What, bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			name := "s3://" + bucket + "/" + key
			if strings.HasSuffix(key, "/") || (w.Skip != nil && w.Skip(name)) {
				continue
			}
			if err := w.object(ctx, bucket, key, name, read); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w Walker) object(ctx context.Context, bucket, key, name string, read func(string, io.Reader) error) error {
	out, err := w.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("%s: get %s: %w", w.What, name, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}()
	return read(name, out.Body)
}
