// Command gen writes the side-by-side benchmark's workload: scraped shop
// listings as JSON lines, the same bytes for the same arguments.
//
//	go run ./bench/gen -records 200000 -files 8 -out DIR
//
// The records are spread over -files objects under DIR/listings/, named
// part-NNN.jsonl, as a scraper would land them in S3.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	records := flag.Int("records", 200000, "records to write")
	files := flag.Int("files", 8, "objects to spread them over")
	bytes := flag.Int64("bytes", 0, "write about this many bytes instead of -records")
	out := flag.String("out", "", "output folder (required)")
	flag.Parse()
	if *out == "" || *files < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, *records, *files, *bytes); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// Header spellings vary from site to site, as they do in scraped data.
var names = [][]string{
	{"Shop Name", "Address", "Price", "Listed", "URL", "Rating", "Tags", "Description"},
	{"shop_name", "address", "price", "listed_on", "link", "stars", "categories", "description"},
	{"SHOP-NAME", "Location", "Cost", "Date Listed", "href", "score", "labels", "Blurb"},
}

var (
	prices  = []string{"£1,299.00", "$ 845", "12.50", "99", "£4.10", "1,050"}
	dates   = []string{"2024-05-01", "01/05/2024", "28 April 2024", "2024-04-30T10:00:00Z"}
	ratings = []string{"4.5", "3", "4.0", "", "5"}
	tags    = []string{"books; cafe; gifts", "antiques", "records; vinyl", "", "food; bakery; cafe; takeaway"}
	blurbs  = []string{
		`Independent shop on the high street, open since 1987. Friendly staff, \"best scones in town\".`,
		`Second-hand books, maps and prints; café upstairs with views of the harbour.`,
		`Family-run: repairs while you wait.\nClosed on Sundays and bank holidays.`,
		`Vinyl, cassettes and turntables bought and sold — ask about trade-ins.`,
	}
)

func write(dir string, records, files int, size int64) error {
	rng := rand.New(rand.NewSource(1))
	perFile := (records + files - 1) / files
	if size > 0 {
		records = int(size / 343) // about 343 bytes a record
		perFile = (records + files - 1) / files
	}
	if err := os.MkdirAll(filepath.Join(dir, "listings"), 0o755); err != nil {
		return err
	}
	var buf []byte
	for f, i := 0, 0; f < files; f++ {
		file, err := os.Create(filepath.Join(dir, "listings", fmt.Sprintf("part-%03d.jsonl", f)))
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(file, 1<<20)
		for end := min(i+perFile, records); i < end; i++ {
			n := names[i%len(names)]
			buf = append(buf[:0], '{')
			buf = field(buf, n[0], "Shop number "+strconv.Itoa(rng.Intn(100000)))
			buf = field(buf, n[1], fmt.Sprintf("%d High Street, Bristol BS1 %dAA", rng.Intn(300), rng.Intn(9)))
			buf = field(buf, n[2], prices[rng.Intn(len(prices))])
			buf = field(buf, n[3], dates[rng.Intn(len(dates))])
			buf = field(buf, n[4], "https://example.com/shops/"+strconv.Itoa(i))
			buf = field(buf, n[5], ratings[rng.Intn(len(ratings))])
			buf = field(buf, n[6], tags[rng.Intn(len(tags))])
			buf = field(buf, n[7], blurbs[rng.Intn(len(blurbs))])
			buf = field(buf, "Phone", fmt.Sprintf("+44 117 496 %04d", rng.Intn(10000)))
			if i%2 == 0 {
				buf = field(buf, "Opening Hours", "Mon-Sat 9:00-17:30")
			}
			buf[len(buf)-1] = '}'
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := file.Close(); err != nil {
			return err
		}
	}
	return nil
}

// field appends "name":"value", with value already JSON-escaped.
func field(buf []byte, name, value string) []byte {
	buf = append(buf, '"')
	buf = append(buf, name...)
	buf = append(buf, `":"`...)
	buf = append(buf, value...)
	return append(buf, `",`...)
}
