package decompress

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, p := range parts { // one gzip member per part
		w := gzip.NewWriter(&out)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

func readAll(t *testing.T, body []byte, size int64, l Limits, wrap func(io.Reader) io.Reader) ([]byte, error) {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if wrap != nil {
		r = wrap(r)
	}
	d, err := Open(r, size, l)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(d)
}

func TestOpen(t *testing.T) {
	text := strings.Repeat("id,name\n1,ä b\n", 1000)
	bomb := gz(t, strings.Repeat("\x00", 4<<20))
	tests := []struct {
		name   string
		body   []byte
		size   int64
		limits Limits
		want   string
		gzip   bool
		err    string // "limit:<which>", "corrupt" or ""
	}{
		{name: "plain", body: []byte(text), want: text},
		{name: "plain ignores caps", body: []byte(text), limits: Limits{MaxBytes: 10, MaxRatio: 1}, want: text},
		{name: "empty", body: nil, want: ""},
		{name: "one byte that is not gzip", body: []byte{0x1f}, want: "\x1f"},
		{name: "gzip", body: gz(t, text), want: text, gzip: true},
		{name: "gzip with .csv-like content, no extension needed", body: gz(t, "a\n"), want: "a\n", gzip: true},
		{name: "multi-member", body: gz(t, "first\n", "second\n", "third\n"), want: "first\nsecond\nthird\n", gzip: true},
		{name: "absolute cap", body: bomb, limits: Limits{MaxBytes: 1 << 20}, gzip: true, err: "limit:max_decompressed_bytes"},
		{name: "ratio cap, size known", body: bomb, size: int64(len(bomb)), limits: Limits{MaxRatio: 100}, gzip: true, err: "limit:max_ratio"},
		{name: "ratio cap, size unknown", body: bomb, limits: Limits{MaxRatio: 100}, gzip: true, err: "limit:max_ratio"},
		{name: "small and very repetitive: under the ratio floor", body: gz(t, strings.Repeat("a", 900<<10)), size: 1000, limits: Limits{MaxRatio: 10}, want: strings.Repeat("a", 900<<10), gzip: true},
		{name: "under both caps", body: gz(t, text), size: 1 << 20, limits: Limits{MaxBytes: 1 << 30, MaxRatio: 100}, want: text, gzip: true},
		{name: "exactly at the absolute cap", body: gz(t, "12345"), limits: Limits{MaxBytes: 5}, want: "12345", gzip: true},
		{name: "one past the absolute cap", body: gz(t, "123456"), limits: Limits{MaxBytes: 5}, gzip: true, err: "limit:max_decompressed_bytes"},
		{name: "bad checksum", body: flipCRC(gz(t, text)), gzip: true, err: "corrupt"},
		{name: "truncated", body: gz(t, text)[:40], gzip: true, err: "corrupt"},
		{name: "garbage after a member", body: append(gz(t, "a\n"), "garbage"...), gzip: true, err: "corrupt"},
	}
	wraps := map[string]func(io.Reader) io.Reader{"whole": nil, "byte-at-a-time": iotest.OneByteReader, "half": iotest.HalfReader}
	for _, tc := range tests {
		for wname, wrap := range wraps {
			t.Run(tc.name+"/"+wname, func(t *testing.T) {
				got, err := readAll(t, tc.body, tc.size, tc.limits, wrap)
				var le *LimitError
				var ce *CorruptError
				switch {
				case tc.err == "":
					if err != nil {
						t.Fatalf("err = %v", err)
					}
					if string(got) != tc.want {
						t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
					}
				case strings.HasPrefix(tc.err, "limit:"):
					if !errors.As(err, &le) || le.Limit != strings.TrimPrefix(tc.err, "limit:") {
						t.Fatalf("err = %v, want %s", err, tc.err)
					}
					if int64(len(got)) > le.Cap {
						t.Fatalf("returned %d bytes, past the cap %d", len(got), le.Cap)
					}
				case tc.err == "corrupt":
					if !errors.As(err, &ce) {
						t.Fatalf("err = %v, want *CorruptError", err)
					}
				}
			})
		}
		t.Run(tc.name+"/detect", func(t *testing.T) {
			d, err := Open(bytes.NewReader(tc.body), 0, Limits{})
			if err != nil {
				var ce *CorruptError
				if tc.err == "corrupt" && errors.As(err, &ce) {
					return
				}
				t.Fatal(err)
			}
			if d.Gzip() != tc.gzip {
				t.Fatalf("Gzip() = %v, want %v", d.Gzip(), tc.gzip)
			}
		})
	}
}

func TestIOErrorIsNotCorrupt(t *testing.T) {
	body := gz(t, strings.Repeat("x", 100000))
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(body[:100]), iotest.ErrReader(boom))
	d, err := Open(r, 0, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(d)
	var ce *CorruptError
	if !errors.Is(err, boom) || errors.As(err, &ce) {
		t.Fatalf("err = %v, want the I/O error, not a CorruptError", err)
	}
}

func flipCRC(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-8] ^= 0xff
	return c
}

// FuzzOpen feeds arbitrary bodies: no panic, never more bytes than the cap,
// and every failure is a LimitError or a CorruptError (the body itself
// never fails to read).
func FuzzOpen(f *testing.F) {
	f.Add([]byte("plain text\n"), uint16(0), uint8(0))
	f.Add(gz(f, "a,b\n1,2\n"), uint16(4), uint8(0))
	f.Add(gz(f, "one\n", "two\n"), uint16(0), uint8(2))
	f.Add(gz(f, strings.Repeat("z", 5000)), uint16(100), uint8(3))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, maxBytes uint16, ratio uint8) {
		l := Limits{MaxBytes: int64(maxBytes), MaxRatio: float64(ratio)}
		d, err := Open(bytes.NewReader(body), int64(len(body)), l)
		var le *LimitError
		var ce *CorruptError
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		got, err := io.ReadAll(d)
		if err != nil && !errors.As(err, &le) && !errors.As(err, &ce) {
			t.Fatalf("Read: %T %v", err, err)
		}
		if d.Gzip() && l.MaxBytes > 0 && int64(len(got)) > l.MaxBytes {
			t.Fatalf("read %d bytes past the cap %d", len(got), l.MaxBytes)
		}
		if !d.Gzip() && (err != nil || !bytes.Equal(got, body)) {
			t.Fatalf("plain body changed: err %v", err)
		}
	})
}
