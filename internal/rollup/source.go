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

	"github.com/sluicehq/sluice/internal/location"
)

// S3API is what reading an s3:// location needs.
type S3API = location.S3API

// ReadDocuments calls add with every JSON object of the newline-delimited
// files under loc: a file, a folder (recursively, hidden files left out)
// or s3://bucket/prefix, gzip or not. Lines that are not JSON objects
// (other outputs kept beside the rollups) are skipped.
func ReadDocuments(ctx context.Context, loc string, client S3API, add func(doc map[string]any) error) error {
	w := location.Walker{What: "rollup", S3: client}
	return w.Walk(ctx, loc, func(name string, r io.Reader) error { return readDocuments(name, r, add) })
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
