package rollup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
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

// ReadDocuments calls add with every JSON object of the newline-delimited
// files under loc: a file, a folder (recursively, hidden files left out)
// or s3://bucket/prefix, gzip or not. Lines that are not JSON objects
// (other outputs kept beside the rollups) are skipped.
func ReadDocuments(ctx context.Context, loc string, client S3API, add func(doc map[string]any) error) error {
	if rest, ok := strings.CutPrefix(loc, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return fmt.Errorf("rollup: %q names no bucket (write s3://bucket/prefix)", loc)
		}
		return readS3(ctx, client, bucket, prefix, add)
	}
	info, err := os.Stat(loc)
	if err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	if !info.IsDir() {
		return readFile(loc, add)
	}
	return filepath.WalkDir(loc, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("rollup: %w", err)
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return readFile(path, add)
	})
}

func readFile(path string, add func(map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("rollup: %w", err)
	}
	defer f.Close()
	return readDocuments(path, f, add)
}

func readS3(ctx context.Context, client S3API, bucket, prefix string, add func(map[string]any) error) error {
	if client == nil {
		return errors.New("rollup: an s3:// location needs an S3 client")
	}
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("rollup: list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("rollup: get s3://%s/%s: %w", bucket, key, err)
			}
			err = readDocuments("s3://"+bucket+"/"+key, out.Body, add)
			out.Body.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func readDocuments(name string, r io.Reader, add func(map[string]any) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("rollup: %s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var doc map[string]any
			if dec.Decode(&doc) == nil {
				if err := add(doc); err != nil {
					return fmt.Errorf("%s:%d: %w", name, line, err)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("rollup: %s: %w", name, err)
		}
	}
}
