package infer

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/internal/format"
)

// Formats are the formats infer reads.
var Formats = []string{"csv", "jsonl", "alb", "elb"}

// FormatFor guesses a file's format from its name (.gz ignored): csv for
// .csv, .tsv and .txt, jsonl for .jsonl, .ndjson and .json; "" otherwise.
func FormatFor(path string) string {
	name := strings.ToLower(strings.TrimSuffix(strings.ToLower(path), ".gz"))
	switch filepath.Ext(name) {
	case ".csv", ".tsv", ".txt":
		return "csv"
	case ".jsonl", ".ndjson", ".json":
		return "jsonl"
	}
	return ""
}

// Files expands folders into the files below them, sorted; files are kept
// as given.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("infer: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var below []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
				below = append(below, path)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("infer: %w", err)
		}
		sort.Strings(below)
		out = append(out, below...)
	}
	return out, nil
}

// ReadFile reads up to max records (0: all) of the file at path in the
// named format, gzip or not, into the sampler. Records the format cannot
// parse are counted, not fatal.
func (s *Sampler) ReadFile(path, formatName string, max int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("infer: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("infer: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	sc, err := format.New(formatName, r, nil)
	if err != nil {
		return fmt.Errorf("infer: %s: %w", path, err)
	}
	file := s.beginFile(path)
	for max <= 0 || file.records < max {
		rec, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var re *format.RecordError
		if errors.As(err, &re) {
			file.unparsed++
			continue
		}
		if err != nil {
			return fmt.Errorf("infer: %s: %w", path, err)
		}
		s.add(file, rec)
	}
	return nil
}
