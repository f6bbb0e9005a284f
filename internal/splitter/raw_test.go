package splitter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/format"
)

// nextOnly hides a scanner's NextRaw: the splitter then reads every
// record's fields and quotes them into the envelope.
type nextOnly struct{ format.Scanner }

func openNextOnly(name string, r io.Reader, opts format.Options) (format.Scanner, error) {
	s, err := format.New(name, r, opts)
	return nextOnly{s}, err
}

// countRaw counts the Raw records NextRaw returns.
type countRaw struct {
	format.RawScanner
	n *int
}

func (c *countRaw) NextRaw() (format.Record, error) {
	rec, err := c.RawScanner.NextRaw()
	if rec.Raw != nil {
		*c.n++
	}
	return rec, err
}

// TestRawMatchesFields splits JSON lines (canonical objects of every size
// around the record limit, and lines that are not canonical) once with
// NextRaw's text copied into the envelopes and once with every record's
// fields quoted, on a plain and a forked route: the records put and the
// dead letters must be the same bytes.
func TestRawMatchesFields(t *testing.T) {
	var in bytes.Buffer
	for i := range 120 {
		fmt.Fprintf(&in, `{"id":%d,"name":"Shop \"%d\"\n— café","pad":"%s","n":null,"tags":["a", "b"]}`+"\n", i, i, strings.Repeat("x", i*4))
	}
	in.WriteString(`{"a": 1}` + "\n" + `{"a":"\u00e9"}` + "\n" + `{"a":"\/"}` + "\n" + `[{"a":1},{"b":2}]` + "\n" + `{"a":` + "\n" + "\"s\"\n{}\n")
	in.WriteString("{\"ls\":\"\u2028\"}\n{\"bad\":\"\xff\"}\n")
	fixed := time.Date(2026, 11, 20, 9, 14, 3, 512_000_000, time.UTC)
	routes := map[string]*config.Route{
		"plain":  {Format: "jsonl", Schema: "listing", Stream: "events"},
		"forked": {Format: "jsonl", Schema: "listing", To: []config.Branch{{Stream: "events"}, {Stream: "other", Schema: "page_view"}}},
	}
	for name, route := range routes {
		t.Run(name, func(t *testing.T) {
			var outs [2]string
			var raws int
			openRaw := func(name string, r io.Reader, opts format.Options) (format.Scanner, error) {
				s, err := format.New(name, r, opts)
				return &countRaw{s.(format.RawScanner), &raws}, err
			}
			for k, open := range []OpenFormat{openRaw, openNextOnly} {
				r := newRig(t, nil, WithClock(func() time.Time { return fixed }), WithFormats(open))
				// Envelopes of the longer lines are over the limit; longer
				// lines still are over the format's limit.
				r.h.cfg.Limits.MaxRecordBytes = 500
				o := r.s3.add("b", "listings/f.jsonl", in.Bytes(), "", "e")
				res, err := r.h.Split(context.Background(), o, route)
				if err != nil || res.Status != StatusDone {
					t.Fatalf("Split = %+v, %v", res, err)
				}
				if res.Sent < 40 || res.DeadLettered < 40 {
					t.Fatalf("sent %d, dead-lettered %d: the input no longer covers the limit", res.Sent, res.DeadLettered)
				}
				var out bytes.Buffer
				for _, stream := range []string{"events", "other"} {
					for _, rec := range r.fh.records(stream) {
						out.Write(rec)
						out.WriteByte('\n')
					}
				}
				var names []string
				for n := range r.s3.puts {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					out.Write(r.s3.puts[n])
				}
				outs[k] = out.String()
			}
			if raws < 100 {
				t.Errorf("%d records read by NextRaw as Raw, want over 100", raws)
			}
			if outs[0] != outs[1] {
				t.Errorf("records and dead letters differ:\nNextRaw:\n%s\nNext:\n%s", outs[0], outs[1])
			}
		})
	}
}
