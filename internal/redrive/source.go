package redrive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/location"
)

// S3API is what reading an s3:// source needs.
type S3API = location.S3API

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
func IsS3(loc string) bool { return location.IsS3(loc) }

// SplitS3 splits s3://bucket/prefix.
func SplitS3(loc string) (bucket, prefix string, err error) { return location.SplitS3("redrive", loc) }

// Each calls visit for every record, object by object in key order. An
// error from visit, from listing or from reading an object ends the walk.
func (s *Source) Each(ctx context.Context, visit func(Item) error) error {
	w := location.Walker{What: "redrive", S3: s.S3, Skip: s.Skip}
	return w.Walk(ctx, s.Location, func(name string, r io.Reader) error { return s.eachRecord(ctx, name, r, visit) })
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
