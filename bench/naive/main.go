// Command naive is the program people write first for the side-by-side
// benchmark's job (scripts/bench-peers.sh): each JSON line into a
// map[string]any with encoding/json, the same renames and coercions as
// sluice's listing schema by hand (price and rating as numbers, the listing
// date as a date, tags as an array, unknown fields kept under "extra"), no
// schema, encoding/json out. One output file per input file.
//
//	naive -out DIR INPUT_DIR
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "", "output folder (required)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: naive -out DIR INPUT_DIR")
		os.Exit(2)
	}
	in := flag.Arg(0)
	var ok, failed int
	err := filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(in, path)
		o, f, err := convert(path, filepath.Join(*out, rel))
		ok, failed = ok+o, failed+f
		return err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
	fmt.Printf("ok %d failed %d\n", ok, failed)
}

func convert(inPath, outPath string) (ok, failed int, err error) {
	in, err := os.Open(inPath)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return 0, 0, err
	}
	out, err := os.Create(outPath)
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriterSize(out, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			if b, good := transform(line); good {
				w.Write(b)
				ok++
			} else {
				failed++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ok, failed, err
		}
	}
	return ok, failed, w.Flush()
}

var renames = map[string]string{
	"shopname": "shop_name", "shop": "shop_name", "store": "shop_name", "address": "address", "location": "address",
	"price": "price", "cost": "price", "listed": "listed", "listedon": "listed", "datelisted": "listed",
	"url": "url", "link": "url", "href": "url", "rating": "rating", "stars": "rating", "score": "rating",
	"tags": "tags", "categories": "tags", "labels": "tags",
}

func transform(line []byte) ([]byte, bool) {
	var in map[string]any
	if err := json.Unmarshal(line, &in); err != nil {
		return nil, false
	}
	out := map[string]any{}
	extra := map[string]any{}
	for k, v := range in {
		s, _ := v.(string)
		name, ok := renames[key(k)]
		if !ok {
			extra[k] = s
			continue
		}
		switch name {
		case "price":
			f, ok := number(s)
			if !ok {
				return nil, false
			}
			out[name] = f
		case "rating":
			if f, ok := number(s); ok {
				out[name] = f
			} else {
				out[name] = nil
			}
		case "listed":
			d, ok := date(s)
			if !ok {
				return nil, false
			}
			out[name] = d
		case "tags":
			tags := []string{}
			for _, t := range strings.Split(s, ";") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			out[name] = tags
		default:
			out[name] = s
		}
	}
	out["extra"] = extra
	b, err := json.Marshal(out)
	if err != nil {
		return nil, false
	}
	return append(b, '\n'), true
}

// key folds a header spelling: lower case, letters and digits only.
func key(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func number(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")
	s = strings.Trim(s, "()$£€ %")
	if strings.Contains(s, ",") && strings.LastIndex(s, ",") > strings.LastIndex(s, ".") && len(s)-strings.LastIndex(s, ",") != 4 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	} else {
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, " ", ""), 64)
	if neg {
		f = -f
	}
	return f, err == nil
}

func date(s string) (string, bool) {
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2 January 2006", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	return "", false
}
