package envelope

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/jsonx"
)

// benchEnvelopes are envelopes of scraped listings as the splitter writes
// them: several spellings of the columns, escaped quotes, a price in six
// needing a decimal mark.
func benchEnvelopes(tb testing.TB, n int) [][]byte {
	tb.Helper()
	src := Source{Bucket: "landing", Key: "listings/part-000.jsonl", Format: "jsonl", IngestedAt: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	enc := NewEncoder("listing", src)
	var out [][]byte
	for i := range n {
		var line string
		switch i % 3 {
		case 0:
			line = fmt.Sprintf(`{"Shop Name":"Shop number %d","Address":"87 High Street, Bristol BS1 2AA","Price":"1,050","Listed":"01/05/2024","URL":"https://example.com/shops/%d","Rating":"","Tags":"books; cafe; gifts","Description":"Independent shop on the high street, open since 1987. Friendly staff, \"best scones in town\".","Phone":"+44 117 496 0456","Opening Hours":"Mon-Sat 9:00-17:30"}`, i*7, i)
		case 1:
			line = fmt.Sprintf(`{"shop_name":"Shop number %d","address":"194 High Street, Bristol BS1 7AA","price":"£1,299.00","listed_on":"01/05/2024","link":"https://example.com/shops/%d","stars":"4.5","categories":"food; bakery; cafe; takeaway","description":"Vinyl, cassettes and turntables bought and sold — ask about trade-ins.","Phone":"+44 117 496 1445"}`, i*7, i)
		default:
			line = fmt.Sprintf(`{"name":"Shop number %d","addr":"12 Park Row","price":12.5,"date":"2024-04-28","url":"https://example.com/shops/%d","rating":4,"tags":["a","b"],"open":true,"note":null}`, i*7, i)
		}
		var fields []Field
		p := jsonx.Scanner{Data: []byte(line)}
		if err := p.Object(func(name string, kind jsonx.Kind, val string) error {
			fields = append(fields, Field{Name: name, Value: val, Kind: FieldKind(kind)})
			return nil
		}); err != nil {
			tb.Fatal(err)
		}
		out = append(out, enc.Append(nil, int64(i), int64(i+1), int64(i*350), nil, fields))
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	envs := benchEnvelopes(b, 300)
	var bytes int64
	for _, e := range envs {
		bytes += int64(len(e))
	}
	b.SetBytes(bytes / int64(len(envs)))
	var d Decoded
	for i := 0; b.Loop(); i++ {
		if err := Decode(envs[i%len(envs)], &d); err != nil {
			b.Fatal(err)
		}
	}
}
