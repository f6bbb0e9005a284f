package deadletter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/envelope"
)

// LineError is a line that holds no dead-letter record. It is not fatal:
// Reader.Next continues with the following line.
type LineError struct {
	Line    int64
	Problem string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("deadletter: line %d: %s", e.Line, e.Problem)
}

// Reader reads dead-letter records leniently from JSON lines, as Firehose
// and the splitter write them:
//   - numeric fields may be JSON numbers or strings (timestamps also as
//     RFC 3339 text);
//   - the Lambda's ARN may be spelt lambdaArn or lambdaARN (any case);
//   - several objects may share a line (Firehose concatenates records with
//     no delimiter when it is configured to);
//   - the input may be gzip-compressed (detected by its magic bytes).
type Reader struct {
	br      *bufio.Reader
	started bool
	line    int64
	pending *json.Decoder // the rest of the current line
	err     error
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Line is the 1-based line of the record Next returned last.
func (r *Reader) Line() int64 { return r.line }

// Next returns the next record, a *LineError for a line that holds none
// (call Next again), io.EOF at the end, or another error for an I/O or
// decompression fault that ends the read.
func (r *Reader) Next() (*Record, error) {
	if !r.started {
		r.started = true
		if err := r.detectGzip(); err != nil {
			r.err = err
		}
	}
	for {
		if r.pending != nil {
			rec, err, more := r.nextOnLine()
			if !more {
				r.pending = nil
			}
			if rec != nil || err != nil {
				return rec, err
			}
			continue
		}
		if r.err != nil {
			return nil, r.err
		}
		line, err := r.br.ReadBytes('\n')
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = fmt.Errorf("deadletter: read: %w", err)
			} else {
				r.err = io.EOF
			}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if len(line) > 0 {
				r.line++
			}
			continue
		}
		r.line++
		// Most lines hold one record: decode it directly. Several objects
		// on a line (or a broken one) take the streaming decoder.
		var w wireRecord
		if err := json.Unmarshal(line, &w); err == nil {
			rec, problem := w.record()
			if problem != "" {
				return nil, &LineError{Line: r.line, Problem: problem}
			}
			return rec, nil
		}
		r.pending = json.NewDecoder(bytes.NewReader(line))
	}
}

// nextOnLine decodes the next object of the current line. more is false
// when the line is used up.
func (r *Reader) nextOnLine() (rec *Record, err error, more bool) {
	var w wireRecord
	if derr := r.pending.Decode(&w); derr != nil {
		if errors.Is(derr, io.EOF) {
			return nil, nil, false
		}
		return nil, &LineError{Line: r.line, Problem: "not a dead-letter record: " + jsonProblem(derr)}, false
	}
	rec, problem := w.record()
	if problem != "" {
		return nil, &LineError{Line: r.line, Problem: problem}, r.pending.More()
	}
	return rec, nil, r.pending.More()
}

func (r *Reader) detectGzip() error {
	magic, err := r.br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return nil // too short to be gzip, or plain text
	}
	zr, err := gzip.NewReader(r.br)
	if err != nil {
		return fmt.Errorf("deadletter: gzip: %w", err)
	}
	r.br = bufio.NewReaderSize(zr, 64<<10)
	return nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "a JSON " + te.Value + ", not an object"
		}
		return fmt.Sprintf("field %s is a JSON %s", te.Field, te.Value)
	}
	return err.Error()
}

// wireRecord accepts every spelling seen in the wild. encoding/json
// matches keys case-insensitively, so lambdaARN and ErrorCode land here too.
type wireRecord struct {
	AttemptsMade           json.RawMessage `json:"attemptsMade"`
	ArrivalTimestamp       json.RawMessage `json:"arrivalTimestamp"`
	ErrorCode              string          `json:"errorCode"`
	ErrorMessage           string          `json:"errorMessage"`
	LastErrorCode          string          `json:"lastErrorCode"`
	LastErrorMessage       string          `json:"lastErrorMessage"`
	AttemptEndingTimestamp json.RawMessage `json:"attemptEndingTimestamp"`
	RawData                json.RawMessage `json:"rawData"`
	LambdaArn              string          `json:"lambdaArn"`
	Reason                 string          `json:"reason"`
	RecordID               string          `json:"recordId"`
	Source                 json.RawMessage `json:"source"`
}

func (w *wireRecord) record() (*Record, string) {
	if isNull(w.RawData) {
		return nil, "not a dead-letter record: no rawData"
	}
	var b64 string
	if err := json.Unmarshal(w.RawData, &b64); err != nil {
		return nil, "rawData is not a string"
	}
	raw, err := decodeBase64(b64)
	if err != nil {
		return nil, "rawData is not base64: " + err.Error()
	}
	rec := &Record{
		ErrorCode:    firstNonEmpty(w.ErrorCode, w.LastErrorCode),
		ErrorMessage: firstNonEmpty(w.ErrorMessage, w.LastErrorMessage),
		RawData:      raw,
		LambdaArn:    w.LambdaArn,
		Reason:       w.Reason,
		RecordID:     w.RecordID,
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *int64
		time bool
	}{
		{"attemptsMade", w.AttemptsMade, &rec.AttemptsMade, false},
		{"arrivalTimestamp", w.ArrivalTimestamp, &rec.ArrivalTimestamp, true},
		{"attemptEndingTimestamp", w.AttemptEndingTimestamp, &rec.AttemptEndingTimestamp, true},
	} {
		v, err := lenientInt(f.raw, f.time)
		if err != nil {
			return nil, f.name + ": " + err.Error()
		}
		*f.dst = v
	}
	if !isNull(w.Source) {
		src, err := lenientSource(w.Source)
		if err != nil {
			return nil, "source: " + err.Error()
		}
		rec.Source = src
	}
	return rec, ""
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	if b, rerr := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); rerr == nil {
		return b, nil
	}
	return nil, err
}

// lenientInt reads a JSON number or a string holding one; with asTime it
// also reads RFC 3339 text as epoch milliseconds. Absent or null is 0.
func lenientInt(raw json.RawMessage, asTime bool) (int64, error) {
	if isNull(raw) {
		return 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return 0, nil
		}
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) &&
		f >= math.MinInt64 && f <= math.MaxInt64 {
		return int64(f), nil
	}
	if asTime {
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", truncate(text, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// wireSource reads the splitter's provenance in the envelope's snake_case
// spelling or Go's field names.
type wireSource struct {
	Bucket          string          `json:"bucket"`
	Key             string          `json:"key"`
	Version         string          `json:"version"`
	ETag            string          `json:"etag"`
	Format          string          `json:"format"`
	Line            json.RawMessage `json:"line"`
	Offset          json.RawMessage `json:"offset"`
	IngestedAt      json.RawMessage `json:"ingestedAt"`
	IngestedAtSnake json.RawMessage `json:"ingested_at"`
}

func lenientSource(raw json.RawMessage) (*envelope.Source, error) {
	var w wireSource
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errors.New(jsonProblem(err))
	}
	src := &envelope.Source{Bucket: w.Bucket, Key: w.Key, Version: w.Version, ETag: w.ETag, Format: w.Format}
	var err error
	if src.Line, err = lenientInt(w.Line, false); err != nil {
		return nil, fmt.Errorf("line: %w", err)
	}
	if src.Offset, err = lenientInt(w.Offset, false); err != nil {
		return nil, fmt.Errorf("offset: %w", err)
	}
	at := w.IngestedAt
	if isNull(at) {
		at = w.IngestedAtSnake
	}
	if !isNull(at) {
		ms, err := lenientInt(at, true)
		if err != nil {
			return nil, fmt.Errorf("ingested_at: %w", err)
		}
		src.IngestedAt = time.UnixMilli(ms).UTC()
	}
	return src, nil
}
