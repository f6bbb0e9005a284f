package envelope

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeFresh decodes data into a Decoded of its own, reading the source
// object whole.
func decodeFresh(data []byte) (Decoded, string) {
	var d Decoded
	d.cache.off = true
	err := Decode(data, &d)
	return d, errText(err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// sameDecode fails t unless decoding data with d (which holds the cache of
// what it decoded before) gives exactly what a fresh Decoded gives.
func sameDecode(t *testing.T, d *Decoded, data []byte) {
	t.Helper()
	err := errText(Decode(data, d))
	want, wantErr := decodeFresh(data)
	if err != wantErr {
		t.Fatalf("Decode(%s) after others: error %q, alone %q", data, err, wantErr)
	}
	if err != "" {
		return
	}
	norm := func(x Decoded) []any {
		if len(x.Source.Flags) == 0 {
			x.Source.Flags = nil
		}
		if len(x.Flags) == 0 {
			x.Flags = nil
		}
		if len(x.Fields) == 0 {
			x.Fields = nil
		}
		return []any{x.Record, x.Bare, x.Flags}
	}
	if got, w := norm(*d), norm(want); !reflect.DeepEqual(got, w) {
		t.Fatalf("Decode(%s) after others:\n got %#v\nwant %#v", data, got, w)
	}
}

// A run of records of one object reads its source head once; whatever
// comes before, every record decodes as it would alone.
func TestDecodeSourceCacheMatchesFreshDecode(t *testing.T) {
	src := Source{Bucket: "in", Key: "listings/a.jsonl", ETag: "e1", Format: "jsonl",
		IngestedAt: time.Date(2026, 11, 30, 8, 0, 0, 5e6, time.UTC)}
	enc := NewEncoder("listing", src)
	other := src
	other.Key, other.IngestedAt = "listings/b.jsonl", other.IngestedAt.Add(time.Second)
	enc2 := NewEncoder("listing", other)
	fields := []Field{{Name: "price", Value: "1,299"}, {Name: "n", Value: "3", Kind: Raw}}
	var records [][]byte
	for i := range int64(5) {
		records = append(records, enc.Append(nil, i, i+1, i*40, nil, fields))
	}
	records = append(records,
		enc.Append(nil, 5, 6, 200, []string{"ragged"}, fields),
		enc2.Append(nil, 0, 1, 0, nil, fields),
		enc.Append(nil, 6, 7, 240, nil, fields),
		// Hand-made sources: members after line override the head's.
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","key":"listings/a.jsonl","etag":"e1","format":"jsonl","line":9,"key":"other","bucket":"b2","flags":["a"]},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","key":"listings/a.jsonl","etag":"e1","format":"jsonl","line":9,"offset":"x"},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","offset":"y","line":9},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","flags":["h"],"line":9,"flags":["t"]},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","flags":["h"],"line":9,"flags":["t"]},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"in","ingested_at":"2026-11-30T08:00:00.005Z","line":9,"ingested_at":"bad"},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"line":1},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"a\"b","line":2},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{"bucket":"a\",\"line\":","line":3},"fields":{}}`),
		[]byte(`{"v":1,"id":"x","schema":"s","source":{},"fields":{}}`),
		[]byte(`{"a":1}`),
	)
	// The splitter's own tail (,"line":N,"offset":N,"ingested_at":"…"}) is
	// read without the general reading; written any other way, it is not.
	first := string(records[0])
	cut := strings.Index(first, `,"line":`)
	end := strings.Index(first, `},"fields":`)
	for _, tail := range []string{
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":0,"offset":0,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":12,"offset":340`,
		`,"line":012,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":12,"offset":00,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":-12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":1.5,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":1e2,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`,
		`,"line":1234567890123456789,"offset":340`,
		`,"line":123456789012345678,"offset":999999999999999999`,
		`,"line":99999999999999999999,"offset":1`,
		`,"line":12 ,"offset":340`,
		`,"line":12,"offset":340 `,
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:01.005Z"`,
		`,"line":12,"offset":340,"ingested_at":"\u0032026-11-30T08:00:00.005Z"`,
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z","flags":["ragged"]`,
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z","line":13`,
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z" `,
		`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z`,
		`,"line":12,"offset":340,"ingested_at":2026`,
		`,"line":12,"offset":"340"`,
		`,"line":12,"line":13,"offset":340`,
		`,"line":12`,
		`,"line":12,"offset":`,
	} {
		records = append(records, []byte(first[:cut]+tail+first[end:]))
	}
	records = append(records, []byte(first[:cut]+`,"line":12,"offset":340,"ingested_at":"2026-11-30T08:00:00.005Z"`))
	// The splitter's whole layout is read without the member loop; any
	// other member, order or spacing around it is not.
	body := first[:len(first)-1] // without the closing brace
	idAt := strings.Index(first, `"id":"`) + len(`"id":"`)
	idEnd := idAt + strings.IndexByte(first[idAt:], '"')
	for _, r := range []string{
		body + `,"x":1}`,
		body + ` }`,
		body + "}\n",
		body + `,"schema":"other"}`,
		body + `,"v":2}`,
		body + `,"fields":{"a":"b"}}`,
		body + `,"id":"second"}`,
		body + `,"flags":["top"]}`,
		body + `}}`,
		body,
		first[:idAt] + `a\u0062` + first[idEnd:],
		first[:idAt] + `plain-other-id:branch` + first[idEnd:],
		strings.Replace(first, `{"v":1,`, `{"v":1.0,`, 1),
		strings.Replace(first, `{"v":1,`, `{"v":2,`, 1),
		strings.Replace(first, `{"v":1,`, `{ "v":1,`, 1),
		strings.Replace(first, `"schema":"listing"`, `"schema":"other"`, 1),
		strings.Replace(first, `"schema":"listing"`, `"schema":"lasting"`, 1),
		strings.Replace(first, `"schema":"listing","source":`, `"sch":"listing","source":`, 1),
		strings.Replace(first, `"schema":"listing"`, `"schema":"list\u0069ng"`, 1),
		strings.Replace(first, `"schema":"listing"`, `"schema":7`, 1),
		strings.Replace(first, `,"fields":{`, `, "fields":{`, 1),
		strings.Replace(first, `,"fields":{`, `,"fields":[{`, 1),
		strings.Replace(first, `"fields":{"price":"1,299"`, `"fields":{"price":"1,299" `, 1),
		strings.Replace(first, `"id":"`, `"id":"`+"\x01", 1),
	} {
		records = append(records, []byte(r))
	}
	// Every order of pairs, and the whole list forwards and backwards.
	for i, a := range records {
		for j, b := range records {
			t.Run(fmt.Sprint(i, "then", j), func(t *testing.T) {
				var d Decoded
				sameDecode(t, &d, a)
				sameDecode(t, &d, b)
				sameDecode(t, &d, a)
			})
		}
	}
	var d Decoded
	for _, r := range records {
		sameDecode(t, &d, r)
	}
	for i := len(records) - 1; i >= 0; i-- {
		sameDecode(t, &d, records[i])
	}
	// The cached strings are the cache's own: changing the data an earlier
	// record was decoded from changes nothing later.
	buf := append([]byte(nil), records[0]...)
	var e Decoded
	sameDecode(t, &e, buf)
	for i := range buf {
		buf[i] = 'z'
	}
	sameDecode(t, &e, records[1])
	if e.Source.Key != src.Key {
		t.Fatalf("key %q after the first record's data changed, want %q", e.Source.Key, src.Key)
	}
}

// FuzzDecodeSourceCache: any record after any other decodes as it would
// alone.
func FuzzDecodeSourceCache(f *testing.F) {
	head := `{"v":1,"id":"i","schema":"s","source":{"bucket":"b","key":"k","format":"csv"`
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":2,"offset":9,"flags":["r"]},"fields":{"a":"1"}}`))
	f.Add([]byte(head+`,"line":1},"fields":{}}`), []byte(head+`,"line":2,"key":"k2"},"fields":{}}`))
	f.Add([]byte(`{"v":1,"source":{"line":1},"fields":{}}`), []byte(`{"v":1,"source":{"a":1,"line":"x"},"fields":{}}`))
	// A head the cache holds, then every way the rest can go: bad values,
	// bad JSON, flags, a second source, a bare record, spaces.
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":"x","offset":0 x},"fields":{}}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":"x","offset":0},"fields":{}}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":2},"fields":{},"source":{"key":"k2"}}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":2,"offset":0,"flags":["r",1]},"source":{"key":"k2","line":3},"fields":{}}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(`{"x":1,"source": `+head[strings.Index(head, `{"bucket"`):]+`,"line":2}}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(head+`,"line":2,"ingested_at":"2026-01-02T03:04:05.000Z","ingested_at":"nope"},"fields":{"a":1}}`))
	// Members around them the general reading must agree with.
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(`{ "v" : 1 , "i\u0064":"x\"y", "schema":"s","v":"2", "source":`+head[strings.Index(head, `{"bucket"`):]+`,"line":2}, "extra":[{"a":1}], "fields":{"a":1}, "flags":["f"] }`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(`{"v":1,"fields":"x","source":5,"id":7}`))
	f.Add([]byte(head+`,"line":1,"offset":0},"fields":{}}`), []byte(`{"v":1,"fields":{},"source":{"line":1},"source":{"line":2}} x`))
	f.Add([]byte(`{"v":1,"fields":{}}`), []byte(`{"v":1,"fields":{},}`))
	// Fields the common way and every way that leaves it.
	f.Add([]byte(`{"v":1,"fields":{"a":"1","b":null,"c":12.5,"d":true,"e":"é"}}`), []byte(`{"v":1,"fields":{ "a" : "x y" , "b":-1e3,"c":false }}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"q\"uote","b":"1"}}`), []byte(`{"v":1,"fields":{"a":[1,{"b":null}],"c":{"d":"e"}}}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"1",}}`), []byte(`{"v":1,"fields":{"a":"1" "b":"2"}}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"`+"\x01"+`"}}`), []byte(`{"v":1,"fields":{"a":tru}}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"abc`+"\x1f"+`defghijklmnop","b":"xyz"}}`), []byte(`{"v":1,"fields":{"a":"abcdefgh\\ijklmnop","b":"xyz"}}`))
	f.Add([]byte(`{"v":1,"fields":{"a":"1","a":"2"},"fields":{}}`), []byte(`{"fields":{"a":"abcdefghijklmnopqrstuvwxyz"},"v":1}`))
	// A cached head whose last value the next record's continues: the
	// head matches as bytes, but not as JSON.
	f.Add([]byte(`{"v":1,"source":{"a":1,"line":1},"fields":{}}`), []byte(`{"v":1,"source":{"a":10,"line":1},"fields":{}}`))
	f.Add([]byte(`{"v":0,"source":{"a":1,"line":"A"},"fields":{}}`), []byte(`{"source":{"a":10`))
	// The splitter's tail, and ways of writing it that its fast reading
	// leaves to the general one.
	tail := `,"line":2,"offset":9,"ingested_at":"2026-01-02T03:04:05.000Z"}`
	f.Add([]byte(head+tail+`,"fields":{}}`), []byte(head+`,"line":3,"offset":19,"ingested_at":"2026-01-02T03:04:05.000Z"},"fields":{"a":"1"}}`))
	f.Add([]byte(head+tail+`,"fields":{}}`), []byte(head+`,"line":03,"offset":19,"ingested_at":"2026-01-02T03:04:05.000Z"},"fields":{}}`))
	f.Add([]byte(head+tail+`,"fields":{}}`), []byte(head+`,"line":3,"offset":19,"ingested_at":"2026-01-02T03:04:05.000Z","line":4},"fields":{}}`))
	f.Add([]byte(head+tail+`,"fields":{}}`), []byte(head+`,"line":3,"offset":1e1,"ingested_at":"2026-01-02T03:04:05.001Z"},"fields":{}}`))
	// The splitter's whole layout, then others like it.
	layout := `{"v":1,"id":"abc-1","schema":"s","source":{"bucket":"b","key":"k","format":"csv","line":2,"offset":9,"ingested_at":"2026-01-02T03:04:05.000Z"},"fields":{"a":"1"}}`
	f.Add([]byte(layout), []byte(strings.Replace(layout, `abc-1`, `abc-2`, 1)))
	f.Add([]byte(layout), []byte(strings.Replace(layout, `"fields":{"a":"1"}}`, `"fields":{"a":"1"},"schema":"t"}`, 1)))
	f.Add([]byte(layout), []byte(strings.Replace(layout, `"schema":"s"`, `"schema":"t"`, 1)))
	f.Add([]byte(layout), []byte(strings.Replace(layout, `"id":"abc-1"`, `"id":"abc\u002d2"`, 1)))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var d Decoded
		sameDecode(t, &d, a)
		sameDecode(t, &d, b)
	})
}
