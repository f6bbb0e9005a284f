package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// S3API is what reading an s3:// source needs.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Item is one dead-letter record and where it was read.
type Item struct {
	Record *deadletter.Record
	// Object is the file path or s3://bucket/key; Line is 1-based.
	Object string
	Line   int64
}

// BadLine is a line of a source object that holds no dead-letter record.
type BadLine struct {
	Object  string
	Line    int64
	Problem string
}

// Source reads processing-failed objects from a local folder (recursively)
// or an s3://bucket/prefix. Objects may be gzip-compressed.
type Source struct {
	// Location is a file, a folder or s3://bucket/prefix.
	Location string
	// S3 reads an s3:// Location.
	S3 S3API
	// Skip, when set, leaves out a path or key for which it reports true
	// (redrive's own parked records, for instance).
	Skip func(object string) bool
	// OnBadLine is told of every line that holds no record. Default: ignore.
	OnBadLine func(BadLine)
}

// IsS3 reports whether loc names an s3:// location.
func IsS3(loc string) bool { return strings.HasPrefix(loc, "s3://") }

// SplitS3 splits s3://bucket/prefix.
func SplitS3(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("redrive: %q is not an s3:// location", loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("redrive: %q names no bucket (write s3://bucket/prefix)", loc)
	}
	return bucket, prefix, nil
}

// Each calls visit for every record, object by object in key order. An
// error from visit, from listing or from reading an object ends the walk.
func (s *Source) Each(ctx context.Context, visit func(Item) error) error {
	if IsS3(s.Location) {
		return s.eachS3(ctx, visit)
	}
	info, err := os.Stat(s.Location)
	if err != nil {
		return fmt.Errorf("redrive: %w", err)
	}
	if !info.IsDir() {
		return s.eachFile(ctx, s.Location, visit)
	}
	return filepath.WalkDir(s.Location, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("redrive: %w", err)
		}
		if s.Skip != nil && s.Skip(path) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil // hidden files include the emulator's partial writes
		}
		return s.eachFile(ctx, path, visit)
	})
}

func (s *Source) eachFile(ctx context.Context, path string, visit func(Item) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("redrive: %w", err)
	}
	defer f.Close()
	return s.eachRecord(ctx, path, f, visit)
}

func (s *Source) eachS3(ctx context.Context, visit func(Item) error) error {
	if s.S3 == nil {
		return errors.New("redrive: an s3:// source needs an S3 client")
	}
	bucket, prefix, err := SplitS3(s.Location)
	if err != nil {
		return err
	}
	pages := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("redrive: list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			name := "s3://" + bucket + "/" + key
			if strings.HasSuffix(key, "/") || (s.Skip != nil && s.Skip(name)) {
				continue
			}
			if err := s.eachObject(ctx, bucket, key, name, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Source) eachObject(ctx context.Context, bucket, key, name string, visit func(Item) error) error {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("redrive: get %s: %w", name, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}()
	return s.eachRecord(ctx, name, out.Body, visit)
}

func (s *Source) eachRecord(ctx context.Context, name string, r io.Reader, visit func(Item) error) error {
	dr := deadletter.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var le *deadletter.LineError
		if errors.As(err, &le) {
			if s.OnBadLine != nil {
				s.OnBadLine(BadLine{Object: name, Line: le.Line, Problem: le.Problem})
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("redrive: %s: %w", name, err)
		}
		if err := visit(Item{Record: rec, Object: name, Line: dr.Line()}); err != nil {
			return err
		}
	}
}
