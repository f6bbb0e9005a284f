package format

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// DefaultMaxRecordBytes is the default record size limit: Firehose's
// record limit of 1,000 KiB.
const DefaultMaxRecordBytes = 1000 * 1024

// settings are a scanner's parsed options.
type settings struct {
	maxRecord int
	encoding  encoding
	delimiter byte // csv only; 0 detects it from the header
	bufSize   int
}

// optionsFor lists the options each format takes.
var optionsFor = map[string][]string{
	"csv":   {"delimiter", "encoding", "max_record_bytes"},
	"jsonl": {"encoding", "max_record_bytes"},
	"elb":   {"encoding", "max_record_bytes"},
	"alb":   {"encoding", "max_record_bytes"},
	"lines": {"encoding", "max_record_bytes"},
}

// parseOptions checks opts against what the format takes and applies the
// defaults. An unknown option is an error, so a typo is not silently
// ignored.
func parseOptions(format string, opts Options) (settings, error) {
	s := settings{maxRecord: DefaultMaxRecordBytes, bufSize: bufferSize}
	known := optionsFor[format]
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		if !contains(known, k) {
			return s, fmt.Errorf("format: %s: unknown option %q (known: %s)", format, k, strings.Join(known, ", "))
		}
		switch k {
		case "max_record_bytes":
			n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
			if err != nil || n < 1 {
				return s, fmt.Errorf("format: %s: option max_record_bytes: want a positive number of bytes, got %q", format, v)
			}
			s.maxRecord = n
		case "encoding":
			e, ok := encodings[strings.ToLower(v)]
			if !ok {
				return s, fmt.Errorf("format: %s: option encoding: want auto, utf-8, latin1 or windows-1252, got %q", format, v)
			}
			s.encoding = e
		case "delimiter":
			d, err := parseDelimiter(v)
			if err != nil {
				return s, fmt.Errorf("format: %s: option delimiter: %w", format, err)
			}
			s.delimiter = d
		}
	}
	return s, nil
}

func parseDelimiter(v string) (byte, error) {
	switch strings.ToLower(v) {
	case "tab", `\t`:
		return '\t', nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	case "pipe":
		return '|', nil
	}
	if len(v) != 1 || v[0] == '"' || v[0] == '\r' || v[0] == '\n' || v[0] >= 0x80 {
		return 0, fmt.Errorf(`want one ASCII character other than a quote or newline (",", ";", "tab", "|"), got %q`, v)
	}
	return v[0], nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
