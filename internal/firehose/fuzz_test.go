package firehose

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzProducer feeds record sizes and failure patterns derived from the
// input and checks the invariants: no call over 500 records or 4 MiB, no
// Firehose record over 1,000 KiB, a record rejected exactly when it is too
// large, every accepted record acknowledged exactly once, in order.
func FuzzProducer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 250, 251, 252, 253, 254, 255})
	f.Add([]byte{1, 10, 200, 201, 255, 255, 255, 9})
	f.Add(bytes.Repeat([]byte{7}, 600))
	f.Add(append([]byte{1}, bytes.Repeat([]byte{254}, 12)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		pack, seed := in[0]&1 == 1, int(in[0])
		fake := &fakeFirehose{answer: func(call int, recs []string) (map[int]string, error) {
			failed := map[int]string{}
			if call < 3 {
				for i := range recs {
					if (seed+call*31+i*7)%5 == 0 {
						failed[i] = "ServiceUnavailableException"
					}
				}
			}
			return failed, nil
		}}
		p, _ := newTest(t, fake, Options{Pack: pack, MaxAttempts: 5})
		var accepted []int
		total := 0
		for i, b := range in[1:] {
			size := fuzzSize(b)
			if total += size; total > 24<<20 {
				break
			}
			data := rec(i, size)
			if b%2 == 1 && pack {
				data[len(data)-1] = '\n'
			}
			err := p.Add(context.Background(), data)
			tooLarge := size > MaxRecordBytes || (pack && data[len(data)-1] != '\n' && size+1 > MaxRecordBytes)
			var re *RecordError
			switch {
			case tooLarge && !errors.As(err, &re):
				t.Fatalf("record %d of %d bytes: Add = %v, want a RecordError", i, size, err)
			case !tooLarge && err != nil:
				t.Fatalf("record %d of %d bytes: %v", i, size, err)
			case err == nil:
				accepted = append(accepted, i)
			}
		}
		if err := p.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if p.Acked() != int64(len(accepted)) {
			t.Fatalf("Acked %d, accepted %d", p.Acked(), len(accepted))
		}
		for c, call := range fake.calls {
			n := 0
			for _, r := range call {
				if len(r) > MaxRecordBytes {
					t.Fatalf("call %d sent a record of %d bytes", c, len(r))
				}
				n += len(r)
			}
			if len(call) > MaxBatchRecords || n > MaxBatchBytes {
				t.Fatalf("call %d: %d records, %d bytes", c, len(call), n)
			}
		}
		count := map[int]int{}
		for id, n := range fake.acked {
			for _, i := range ids(id, pack) {
				count[i] += n
			}
		}
		for _, i := range accepted {
			if count[i] != 1 {
				t.Fatalf("record %d acknowledged %d times", i, count[i])
			}
		}
		if len(count) != len(accepted) {
			t.Fatalf("%d records acknowledged, %d accepted", len(count), len(accepted))
		}
		// Within each call, records go in the order they were added.
		for _, call := range fake.calls {
			last := -1
			for _, r := range call {
				for _, id := range ids(r, pack) {
					if id <= last {
						t.Fatalf("record %d sent after %d", id, last)
					}
					last = id
				}
			}
		}
	})
}

// fuzzSize maps a byte to a record size, most small, some at the limits.
func fuzzSize(b byte) int {
	switch {
	case b < 200:
		return 8 + int(b)
	case b < 250:
		return 8 + int(b)*100
	}
	return []int{MaxRecordBytes - 1, MaxRecordBytes, MaxRecordBytes + 1, 600_000, 524_288, 1_000_000}[b-250]
}

// ids returns the test record numbers in a Firehose record.
func ids(r string, pack bool) []int {
	lines := []string{r}
	if pack {
		lines = strings.Split(strings.TrimSuffix(r, "\n"), "\n")
	}
	out := make([]int, len(lines))
	for i, l := range lines {
		n, err := strconv.Atoi(l[1:8])
		if err != nil {
			panic(err)
		}
		out[i] = n
	}
	return out
}
