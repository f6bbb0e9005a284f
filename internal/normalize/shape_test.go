package normalize

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"

	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/schema"
)

// TestShapesReadAsLookups: a Scratch that has seen many field lists (and
// so answers most from remembered shapes, evicting some) normalises every
// record exactly as a fresh Scratch does, which looks every name up. The
// lists repeat, reorder, alias, duplicate and vary the case of names, and
// their buffers are overwritten after each record, as the transform's are.
func TestShapesReadAsLookups(t *testing.T) {
	p := compile(t, Options{})
	names := []string{"shop_name", "Shop Name", "store", "STORE", "n", "N", "d", "tags", "Tags", "e", "unknown", "other col", "extra", "b"}
	values := []string{"1", "2,5", "x", "true", "RED", "a;b", ""}
	r := rand.New(rand.NewPCG(3, 4))
	// A few headers, as files have, so that shapes are reused and evicted:
	// some alike in all but order, or in all but one name of the same
	// length, then random ones.
	headers := [][]string{{"n", "d"}, {"d", "n"}, {"N", "d"}, {"e", "d"}, {"n", "d", "n"}, {"tags", "Tags"}, {"Tags", "tags"}, {"n", "b"}}
	for h := len(headers); h < 14; h++ {
		headers = append(headers, nil)
		n := 1 + r.IntN(7)
		for range n {
			headers[h] = append(headers[h], names[r.IntN(len(names))])
		}
	}
	var shared Scratch
	buf := make([]byte, 0, 256)
	hits := 0
	for i := range 5000 {
		hdr := headers[r.IntN(len(headers))]
		// The names live in buf, which the next record overwrites.
		buf = buf[:0]
		fields := make([]envelope.Field, len(hdr))
		for k, name := range hdr {
			start := len(buf)
			buf = append(buf, name...)
			// The name aliases buf, as decoded fields alias the record.
			fields[k] = envelope.Field{Name: unsafe.String(&buf[start], len(name)), Value: values[r.IntN(len(values))]}
		}
		meta := &Meta{RecordID: fmt.Sprint(i)}
		var want, got schema.Value
		var fresh Scratch
		wantFail := p.Normalize(&fresh, fields, meta, &want)
		before := shared.nextShape
		gotFail := p.Normalize(&shared, fields, meta, &got)
		if before == shared.nextShape {
			hits++
		}
		if !reflect.DeepEqual(wantFail, gotFail) || !reflect.DeepEqual(want, got) {
			t.Fatalf("record %d (%q): with shapes %+v %v, looked up %+v %v", i, hdr, got, gotFail, want, wantFail)
		}
		shared.Rewind()
		for k := range buf {
			buf[k] = '#'
		}
	}
	t.Logf("%d hits", hits)
	if hits < 2500 || hits == 5000 {
		t.Fatalf("%d of 5000 records read from a remembered shape: the test does not exercise both ways", hits)
	}
}

// FuzzIsCanonical checks IsCanonical against Canonical, for a canonical
// name that is the name's own, one a byte shorter, longer or changed, and
// a drop rule's.
func FuzzIsCanonical(f *testing.F) {
	for _, s := range []string{"user_agent", "User-Agent", "useragent", "user_agentx", "", "_", "Catégorie", "STRASSE", "Straße", "a1_B2", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c := Canonical(name)
		for _, canon := range []string{c, c + "a", c + "0", "useragent", ""} {
			if got, want := IsCanonical(name, canon), c == canon; got != want {
				t.Fatalf("IsCanonical(%q, %q) = %v; Canonical is %q", name, canon, got, c)
			}
		}
		if len(c) > 0 {
			for _, canon := range []string{c[:len(c)-1], c[1:], "x" + c[1:]} {
				if got, want := IsCanonical(name, canon), c == canon; got != want {
					t.Fatalf("IsCanonical(%q, %q) = %v; Canonical is %q", name, canon, got, c)
				}
			}
		}
	})
}
