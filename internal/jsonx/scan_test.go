package jsonx

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sluicehq/sluice/schema"
)

func TestStrMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{`""`, `"plain ascii long enough for words"`, `"tab\tinside"`, `"esc\\u00e9 and \n"`,
		`"ünïcödé text, long enough to span words"`, `"12345678\\"`, `"1234567\u0001"`, "\"" + strings.Repeat("x", 20) + "\x1f\""} {
		p := Scanner{Data: []byte(in)}
		got, err := p.Str()
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		if (err == nil) != (werr == nil) || (err == nil && got != want) {
			t.Errorf("Str(%q) = %q, %v; encoding/json: %q, %v", in, got, err, want, werr)
		}
	}
}

func TestSWAR(t *testing.T) {
	for c := 0; c < 256; c++ {
		word := []byte("abcdefgh")
		word[5] = byte(c)
		want := 8
		if c < 0x20 || c == '\\' {
			want = 0
		}
		if got := plainPrefix(word); got != want {
			t.Errorf("byte %#x: plainPrefix = %d, want %d", c, got, want)
		}
	}
}

func TestSpecialMaskIsExact(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			m := specialMask(binary.LittleEndian.Uint64(w))
			special := c == '"' || c == '\\' || c < 0x20
			if want := uint64(0); special {
				want = 0x80 << (8 * pos)
				if m != want {
					t.Fatalf("byte %#x at %d: mask %#x, want %#x", c, pos, m, want)
				}
			} else if m != 0 {
				t.Fatalf("byte %#x at %d: mask %#x, want 0", c, pos, m)
			}
		}
	}
}

// TestSkipMaskFindsTheFirst checks skipMask's first marked byte, for
// every byte at every place of a word after every other.
func TestSkipMaskFindsTheFirst(t *testing.T) {
	marked := func(c int) bool { return c == '"' || c == '\\' || c < 0x20 || c == 0xE2 }
	for c := 0; c < 256; c++ {
		for d := 0; d < 256; d++ {
			for pos := 0; pos < 7; pos++ {
				w := []byte("abcdefgh")
				w[pos], w[pos+1] = byte(c), byte(d)
				want := 8
				switch {
				case marked(c):
					want = pos
				case marked(d):
					want = pos + 1
				}
				got := bits.TrailingZeros64(skipMask(binary.LittleEndian.Uint64(w))) / 8
				if got != want {
					t.Fatalf("%q: first marked byte %d, want %d", w, got, want)
				}
			}
		}
	}
}

func FuzzStr(f *testing.F) {
	f.Add([]byte(`"plain"`))
	f.Add([]byte(`"esc\"aped and \u00e9, long enough to cross words"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p := Scanner{Data: in}
		if len(in) == 0 || in[0] != '"' {
			return
		}
		got, err := p.Str()
		var want string
		werr := json.Unmarshal(in[:max(p.I, 0)], &want)
		// Invalid UTF-8 passes through here (the normaliser replaces it);
		// encoding/json replaces it at once, so compare valid text only.
		if err == nil && (werr != nil || (utf8.ValidString(got) && got != want)) {
			t.Fatalf("Str(%q) = %q; encoding/json: %q, %v", in, got, want, werr)
		}
		// Into a Buf holding an earlier string: the same answer, and the
		// earlier string left as it was.
		buf := append(make([]byte, 0, 8), "earlier"...)
		q := Scanner{Data: in, Buf: &buf}
		got2, err2 := q.Str()
		if got2 != got || (err2 == nil) != (err == nil) || q.I != p.I || string(buf[:7]) != "earlier" {
			t.Fatalf("Str(%q) with Buf = %q, %v at %d (Buf starts %q); without: %q, %v at %d", in, got2, err2, q.I, buf[:7], got, err, p.I)
		}
	})
}

// TestStrIntoBufKeepsEveryString: strings with escapes read into one Buf
// each keep their own bytes, as the Buf grows and as more are read, and
// once the Buf has room, reading them allocates nothing.
func TestStrIntoBufKeepsEveryString(t *testing.T) {
	in := []string{`"say \"hi\""`, `"caf\u00e9 \u2014 open"`, `"tab\there, and a long tail to grow the buffer past its start"`, `"\ud83d\ude00 smile"`}
	var want []string
	for _, s := range in {
		var w string
		if err := json.Unmarshal([]byte(s), &w); err != nil {
			t.Fatal(err)
		}
		want = append(want, w)
	}
	buf := make([]byte, 0, 4) // too small: it grows along the way
	read := func() []string {
		buf = buf[:0]
		var got []string
		for _, s := range in {
			p := Scanner{Data: []byte(s), Buf: &buf}
			v, err := p.Str()
			if err != nil {
				t.Fatalf("Str(%s): %v", s, err)
			}
			got = append(got, v)
		}
		return got
	}
	got := read()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("string %d = %q after all were read, want %q", i, got[i], want[i])
		}
	}
	data := make([][]byte, len(in))
	for i, s := range in {
		data[i] = []byte(s)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf = buf[:0]
		for _, d := range data {
			p := Scanner{Data: d, Buf: &buf}
			if _, err := p.Str(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("reading into a Buf with room allocated %.1f times a run, want 0", allocs)
	}
}

// TestCanonical lists objects that are and are not written as the
// envelope's encoder writes an object of fields.
func TestCanonical(t *testing.T) {
	for in, want := range map[string]bool{
		`{}`: true,
		`{"a":"b","n":-1.5e3,"t":true,"f":false,"z":null,"o":{"x" : [1, "\/"]},"l":[ ]}`: true,
		`{"q":"say \"hi\" \\ \n\r\t\u0001\u001f\u2028\u2029 café — ☃"}`:                  true,
		`{"a":"b","a":"c"}`:    true,
		`{"":""}`:              true,
		`{ "a":1}`:             false,
		`{"a" :1}`:             false,
		`{"a": 1}`:             false,
		`{"a":1 }`:             false,
		`{"a":1 ,"b":2}`:       false,
		`{"a":"\/"}`:           false,
		`{"a":"\b"}`:           false,
		`{"a":"\f"}`:           false,
		`{"a":"\u000a"}`:       false,
		`{"a":"\u001F"}`:       false,
		`{"a":"\u00e9"}`:       false,
		`{"a":"\u0041"}`:       false,
		`{"a":"\ud83d\ude00"}`: false,
		`{"a":"\ud800"}`:       false,
		`{"a":"\ufffd"}`:       false,
		"{\"a\":\"\u2028\"}":   false,
		"{\"\u2029\":1}":       false,
		`{"\u00e9":1}`:         false,
		`{"a":1,}`:             false,
		`{"a":1`:               false,
		`{"a":tru}`:            false,
		`{"a":[1,]}`:           false,
		`{"a":"\x"}`:           false,
		`["a"]`:                false,
		`{"a":1}{"b":2}`:       true, // the object alone; what follows is the caller's
		`{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8}`:       true,
		`{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"9":9}`: false, // over maxMembers
		`{"a":{"b":[1]}}`:  true,
		`{"a":{"b":[{}]}}`: false, // deeper than MaxDepth, as the test starts
	} {
		p := Scanner{Data: []byte(in)}
		if strings.HasPrefix(in, `{"a":{"b":`) {
			p.depth = MaxDepth - 3 // room for three levels
		}
		if got := p.Canonical(8); got != want {
			t.Errorf("Canonical(%s) = %v, want %v", in, got, want)
		}
	}
}

// FuzzSkip checks that Skip accepts and refuses exactly what Value does,
// with the same error at the same place, and that a string's canonical
// flag says exactly whether its text is what schema.AppendString writes
// for the string Str reads from it.
func FuzzSkip(f *testing.F) {
	f.Add([]byte(`"plain"`))
	f.Add([]byte(`"esc\"aped \u00e9 \u0001 \n \/ \ud800\udc00 \ud800\u12"`))
	f.Add([]byte("\"\u2028 \\u2029 \xe2\x80\"\u2028"))
	f.Add([]byte(`{"a":[1,{"b":"\"}"},true,null,-0.5e+3],"c":{}}`))
	f.Add([]byte(`[1,2,"unterminated`))
	f.Add([]byte(`"\/"`))
	f.Add([]byte(`"\b\f"`))
	f.Add([]byte(`"\u000a\u001F"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, q := Scanner{Data: in}, Scanner{Data: in}
		_, _, _, verr := p.Value()
		serr := q.Skip()
		if p.I != q.I || !reflect.DeepEqual(verr, serr) {
			t.Fatalf("%q: Value stops at %d with %v, Skip at %d with %v", in, p.I, verr, q.I, serr)
		}
		if verr == nil && p.Replaced != q.Replaced {
			t.Fatalf("%q: Value's Replaced is %v, Skip's %v", in, p.Replaced, q.Replaced)
		}
		if len(in) == 0 || in[0] != '"' {
			return
		}
		p, q = Scanner{Data: in}, Scanner{Data: in}
		s, err := p.Str()
		canonical, serr := q.skipStr()
		if p.I != q.I || !reflect.DeepEqual(err, serr) {
			t.Fatalf("%q: Str stops at %d with %v, skipStr at %d with %v", in, p.I, err, q.I, serr)
		}
		if err == nil && p.Replaced != q.Replaced {
			t.Fatalf("%q: Str's Replaced is %v, skipStr's %v", in, p.Replaced, q.Replaced)
		}
		if err != nil || !utf8.Valid(in[:p.I]) {
			return
		}
		if written := string(schema.AppendString(nil, s)); canonical != (written == string(in[:p.I])) {
			t.Fatalf("%q: canonical = %v, but AppendString writes its string %q as %s", in[:p.I], canonical, s, written)
		}
	})
}

// TestPlainStringAsStr holds PlainString to Str: the same text and end for
// a string with no escape, and false where Str unescapes or fails.
func TestPlainStringAsStr(t *testing.T) {
	for _, in := range []string{`""`, `"a"`, `"0123456789abcdef"`, `"caf\u00e9"`, `"café au lait, un peu plus long"`,
		`"a\"b"`, `"0123456789\\n"`, "\"tab\there\"", `"unterminated`, `"12345678`, `"é"`} {
		data := []byte(in + ` ,`)
		s, next, ok := PlainString(data, 0)
		p := Scanner{Data: data}
		want, err := p.Str()
		plain := err == nil && p.I-2 == len(want)
		if ok != plain || ok && (s != want || next != p.I) {
			t.Errorf("PlainString(%q) = %q, %d, %v; Str: %q, %d, %v", in, s, next, ok, want, p.I, err)
		}
	}
}

// TestReplacedMarksLoneSurrogates holds Replaced to what it says: set by a
// \u escape of half a surrogate pair left alone (read as U+FFFD, as
// encoding/json reads it), and by nothing else, a pair or an escaped
// U+FFFD included.
func TestReplacedMarksLoneSurrogates(t *testing.T) {
	for in, want := range map[string]bool{
		`"plain"`:                false,
		`"\u00e9\n"`:             false,
		`"\ud83d\ude00"`:         false,
		`"\ufffd"`:               false,
		`"\ud83d"`:               true,
		`"\ude00 tail"`:          true,
		`"\ud83dx"`:              true,
		`"\ud83d\u0041"`:         true,
		`"\ud83d\ud83d\ude00"`:   true,
		`"ok \ud83d\ude00 \ud8"`: false, // an error, not a replacement
	} {
		p := Scanner{Data: []byte(in)}
		got, err := p.Str()
		if p.Replaced != want {
			t.Errorf("Str(%s) = %q, %v: Replaced = %v, want %v", in, got, err, p.Replaced, want)
		}
		var std string
		if err == nil && json.Unmarshal([]byte(in), &std) == nil && std != got {
			t.Errorf("Str(%s) = %q; encoding/json reads %q", in, got, std)
		}
	}
}
