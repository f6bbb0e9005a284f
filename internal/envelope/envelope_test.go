package envelope

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/jsonx"
)

func TestRecordIDIsDeterministic(t *testing.T) {
	a := RecordID("b", "k", "v1", "", 7)
	if a != RecordID("b", "k", "v1", "", 7) || len(a) != 22 || a[20:] != "-7" {
		t.Fatalf("id %q not stable or not 20 hex digits, a dash and the index", a)
	}
	for _, other := range []string{
		RecordID("b", "k", "v2", "", 7), RecordID("b", "k", "v1", "", 8),
		RecordID("b", "k2", "v1", "", 7), RecordID("b2", "k", "v1", "", 7),
		RecordID("b", "k", "", "etag", 7),
	} {
		if other == a {
			t.Fatalf("distinct inputs gave the same id %q", a)
		}
	}
	// The ETag identifies the object only when there is no version.
	if RecordID("b", "k", "", "e", 1) != RecordID("b", "k", "", "e", 1) {
		t.Fatal("etag ids unstable")
	}
}

func TestAppendDecodeRoundTrip(t *testing.T) {
	in := Record{
		ID:     "abc",
		Schema: "listing",
		Source: Source{Bucket: "in", Key: "listings/ä b=c.csv", Version: "v1", ETag: `"e"`, Format: "csv", Line: 3, Offset: 120,
			IngestedAt: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)},
		Fields: []Field{
			{Name: "Shop Name", Value: "Bäckerei \"Süß\"\n\t\\"},
			{Name: "price", Value: "12.5", Kind: Raw},
			{Name: "tags", Value: `["a","b"]`, Kind: Raw},
			{Name: "gone", Kind: Null},
			{Name: "ctl", Value: "\x01\u2028"},
		},
	}
	b := Append(nil, &in)
	if !json.Valid(b) {
		t.Fatalf("Append wrote invalid JSON: %s", b)
	}
	var d Decoded
	if err := Decode(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Bare {
		t.Fatal("envelope decoded as bare")
	}
	if !reflect.DeepEqual(d.Record, in) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", d.Record, in)
	}
}

func TestDecodeBareAndFlags(t *testing.T) {
	var d Decoded
	if err := Decode([]byte(` {"id":"x","fields":{"a":1},"n":null} `), &d); err != nil {
		t.Fatal(err)
	}
	want := []Field{{Name: "id", Value: "x"}, {Name: "fields", Value: `{"a":1}`, Kind: Raw}, {Name: "n", Kind: Null}}
	if !d.Bare || !reflect.DeepEqual(d.Fields, want) || d.ID != "" {
		t.Fatalf("bare decode: %+v", d)
	}
	if err := Decode([]byte(`{"v":1,"id":"r","schema":"s","flags":["ragged"],"fields":{"a":"\ud83d\ude00"}}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.Bare || d.Schema != "s" || d.ID != "r" || !reflect.DeepEqual(d.Flags, []string{"ragged"}) || d.Fields[0].Value != "😀" {
		t.Fatalf("envelope decode: %+v", d)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `"x"`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":01}`,
		`{"a":1} x`, `{"a":"` + "\x01" + `"}`, `{"v":1,"fields":{"a":1},"source":{"line":"x"}}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`} {
		var d Decoded
		err := Decode([]byte(in), &d)
		if err == nil {
			t.Errorf("Decode(%q) = nil error", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "envelope: byte ") {
			t.Errorf("Decode(%q) error %q lacks position", in, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"v":1,"id":"a","schema":"s","source":{"line":1},"fields":{"x":"y","n":[1,{"a":null}]}}`,
		`{"a":"\u00e9\ud83d"}`, `{"a":1e5,"b":true,"c":false}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Decoded
		err := Decode(data, &d)
		// Whatever sluice accepts, encoding/json must accept too.
		if err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if err == nil && json.Valid(data) {
			var m map[string]any
			if json.Unmarshal(data, &m) != nil {
				t.Fatalf("accepted a non-object %q", data)
			}
		}
	})
}

func TestFieldKindsMatchScanner(t *testing.T) {
	if String != FieldKind(jsonx.String) || Raw != FieldKind(jsonx.Raw) || Null != FieldKind(jsonx.Null) {
		t.Fatal("envelope.FieldKind and jsonx.Kind disagree; Decode converts one into the other")
	}
}

func TestRedrives(t *testing.T) {
	env := Append(nil, &Record{ID: "a", Schema: "s", Fields: []Field{{Name: "x", Value: "1"}}})
	if n, ok := Redrives(env); !ok || n != 0 {
		t.Fatalf("fresh envelope: %d %v", n, ok)
	}
	once := WithRedrives(env, 1)
	twice := WithRedrives(once, 2)
	if n, ok := Redrives(twice); !ok || n != 2 {
		t.Fatalf("after two redrives: %d %v (%s)", n, ok, twice)
	}
	var d Decoded
	if err := Decode(twice, &d); err != nil || d.Bare || d.ID != "a" || d.Fields[0].Value != "1" {
		t.Fatalf("a redriven envelope must decode as the same envelope: %v %+v", err, d)
	}
	for _, bare := range []string{`{"shop":"x"}`, `{"redrives":"x","v":1}`, `[1]`, `{"redrives":1}`} {
		if _, ok := Redrives([]byte(bare)); ok {
			t.Errorf("%s taken for an envelope", bare)
		}
	}
}

// The Encoder writes exactly what Append writes.
func TestEncoderMatchesAppend(t *testing.T) {
	for _, src := range []Source{
		{Bucket: "in", Key: "listings/ä b=c.csv", Version: "v1", ETag: `"e"`, Format: "csv", IngestedAt: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC)},
		{Bucket: "b", Key: "k", Format: "alb"},
		{Bucket: "b", Key: "k", ETag: "etag", Format: "jsonl", IngestedAt: time.UnixMilli(1)},
	} {
		enc := NewEncoder("listing", src)
		rows := [][]Field{
			{{Name: "Shop Name", Value: "A \"q\""}, {Name: "price", Value: "1", Kind: Raw}, {Name: "n", Kind: Null}},
			{{Name: "Shop Name", Value: "B"}, {Name: "other", Value: "\x01"}},
			{{Name: "x", Value: "y"}},
			{},
		}
		for i, fields := range rows {
			for _, flags := range [][]string{nil, {"ragged"}} {
				s := src
				s.Line, s.Offset, s.Flags = int64(i+2), int64(i*40), flags
				want := Append(nil, &Record{ID: RecordID(src.Bucket, src.Key, src.Version, src.ETag, int64(i)), Schema: "listing", Source: s, Fields: fields})
				got := enc.Append(nil, int64(i), s.Line, s.Offset, flags, fields)
				if string(got) != string(want) {
					t.Fatalf("Encoder wrote\n%s\nAppend writes\n%s", got, want)
				}
			}
		}
	}
}

func TestParseIngestedMatchesTimeParse(t *testing.T) {
	for _, s := range []string{"2024-05-01T10:00:00.000Z", "2024-02-29T23:59:59.999Z", "2024-02-30T00:00:00.000Z",
		"2024-13-01T00:00:00.000Z", "2024-05-01T10:00:00.123456Z", "2024-05-01T10:00:00+02:00", "0001-01-01T00:00:00.000Z", "garbage"} {
		got, err := parseIngested(s)
		want, werr := time.Parse(time.RFC3339Nano, s)
		if (err == nil) != (werr == nil) || (err == nil && !got.Equal(want)) {
			t.Errorf("parseIngested(%q) = %v, %v; time.Parse: %v, %v", s, got, err, want, werr)
		}
	}
}

func TestBranchEncoderNamesTheStream(t *testing.T) {
	src := Source{Bucket: "in", Key: "events/a.jsonl", ETag: "e", Format: "jsonl"}
	fields := []Field{{Name: "type", Value: "click"}}
	for _, stream := range []string{"clicks", "all-events"} {
		id := BranchRecordID(src.Bucket, src.Key, src.Version, src.ETag, 7, stream)
		if want := RecordID(src.Bucket, src.Key, src.Version, src.ETag, 7) + ":" + stream; id != want {
			t.Fatalf("BranchRecordID = %q, want %q", id, want)
		}
		s := src
		s.Line = 8
		want := Append(nil, &Record{ID: id, Schema: "event", Source: s, Fields: fields})
		got := NewBranchEncoder("event", stream, src).Append(nil, 7, 8, 0, nil, fields)
		if string(got) != string(want) {
			t.Fatalf("branch Encoder wrote\n%s\nAppend writes\n%s", got, want)
		}
	}
	if BranchRecordID("b", "k", "", "e", 0, "x") == BranchRecordID("b", "k", "", "e", 0, "y") {
		t.Fatal("two branches of one record share an id")
	}
}

// Field names in changing orders and spellings, and more names than the
// Encoder remembers, are written exactly as Append writes them.
func TestEncoderNamesInAnyOrder(t *testing.T) {
	src := Source{Bucket: "b", Key: "k.jsonl", Format: "jsonl"}
	enc := NewEncoder("listing", src)
	spellings := [][]string{{"Shop Name", "Price", "é\"x"}, {"price", "shop_name"}, {"Price", "Shop Name"}, {"SHOP-NAME", "Cost", "é\"x"}}
	check := func(i int, names []string) {
		t.Helper()
		fields := make([]Field, len(names))
		for j, n := range names {
			fields[j] = Field{Name: n, Value: "v"}
		}
		s := src
		s.Line = int64(i + 1)
		want := Append(nil, &Record{ID: RecordID(src.Bucket, src.Key, "", "", int64(i)), Schema: "listing", Source: s, Fields: fields})
		if got := enc.Append(nil, int64(i), s.Line, 0, nil, fields); string(got) != string(want) {
			t.Fatalf("record %d: Encoder wrote\n%s\nAppend writes\n%s", i, got, want)
		}
	}
	for i := range 40 {
		check(i, spellings[i%len(spellings)])
	}
	for i := range maxNames + 100 {
		check(40+i, []string{fmt.Sprintf("n%d", i), "Price", fmt.Sprintf("m%d", i%7)})
	}
	if len(enc.byName) != maxNames {
		t.Fatalf("the Encoder remembers %d names, want at most %d", len(enc.byName), maxNames)
	}
}

// TestDecodeEscapedStringsReuseMemory: a record's strings with escapes
// come out right, and a second record decoded into the same Decoded
// reuses their memory instead of allocating.
func TestDecodeEscapedStringsReuseMemory(t *testing.T) {
	rec := []byte(`{"v":1,"id":"a","schema":"listing","source":{"bucket":"b","key":"k","format":"jsonl","line":2,"offset":0},"fields":{"Description":"\"best scones\" in town","Note":"caf\u00e9 \u2014 open\ttill 5"}}`)
	var d Decoded
	if err := Decode(rec, &d); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Description": `"best scones" in town`, "Note": "café — open\ttill 5"}
	for _, f := range d.Fields {
		if f.Value != want[f.Name] {
			t.Errorf("%s = %q, want %q", f.Name, f.Value, want[f.Name])
		}
	}
	if len(d.Fields) != len(want) {
		t.Fatalf("%d fields, want %d: %+v", len(d.Fields), len(want), d.Fields)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := Decode(rec, &d); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("decoding the record again allocated %.1f times, want 0", allocs)
	}
}
