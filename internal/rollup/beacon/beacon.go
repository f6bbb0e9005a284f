// Package beacon generates Application Load Balancer access logs of a
// beacon: events sent as query-string parameters (event, user, utm_*),
// with health checks, other paths, malformed lines, missing parameters and
// requests at window boundaries. It returns what it wrote, so tests can
// count the truth without parsing the logs.
package beacon

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kind is what a generated line is.
type Kind uint8

// The kinds of lines.
const (
	Event     Kind = iota // a beacon request to /e
	Health                // a load balancer health check (/health)
	OtherPath             // a request to another path (/favicon.ico)
	Malformed             // a line the alb format cannot parse
	NoTime                // an /e request whose request_creation_time is "-"
)

// Line is one generated line and what it holds. Empty strings are
// parameters left out of the query string.
type Line struct {
	Kind       Kind
	Text       string
	Requested  time.Time // request_creation_time
	Event      string
	User       string
	UTMSource  string
	Status     int
	SentBytes  int64
	TargetTime float64 // target_processing_time, seconds
}

// Options shape a day of logs.
type Options struct {
	// Seed makes the output reproducible.
	Seed uint64
	// Start is the first request's time; lines span Span from it.
	Start time.Time
	Span  time.Duration
	// Lines is how many lines to write.
	Lines int
	// Users is the size of the user pool.
	Users int
}

var (
	events  = []string{"page_view", "click", "signup", "purchase"}
	sources = []string{"google", "newsletter", "twitter", "facebook", "direct partner"}
	mediums = []string{"cpc", "email", "social"}
)

// Generate returns opts.Lines lines in request order.
func Generate(opts Options) []Line {
	r := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5eed))
	users := max(opts.Users, 1)
	out := make([]Line, 0, opts.Lines)
	step := opts.Span / time.Duration(max(opts.Lines, 1))
	for i := range opts.Lines {
		t := opts.Start.Add(time.Duration(i) * step).Add(time.Duration(r.Int64N(int64(step) + 1)))
		if r.IntN(20) == 0 {
			// A request just before a 5-minute boundary, answered after it:
			// its window is the request's.
			t = t.Truncate(5 * time.Minute).Add(-time.Millisecond)
			if t.Before(opts.Start) {
				t = opts.Start
			}
		}
		l := Line{Kind: Event, Requested: t.UTC(), Status: 204}
		switch n := r.IntN(100); {
		case n < 4:
			l.Kind = Health
			l.Status = 200
		case n < 6:
			l.Kind = OtherPath
			l.Status = 404
		case n < 8:
			l.Kind = Malformed
		case n < 9:
			l.Kind = NoTime
		}
		if l.Kind == Event || l.Kind == NoTime {
			if r.IntN(30) != 0 {
				l.Event = events[r.IntN(len(events))]
			}
			if r.IntN(3) != 0 {
				l.UTMSource = sources[r.IntN(len(sources))]
			}
			if r.IntN(50) != 0 {
				// Zipf-like: a few users send most events.
				l.User = fmt.Sprintf("u%05d", int(float64(users)*math.Pow(r.Float64(), 2)))
			}
			if r.IntN(40) == 0 {
				l.Status = 502
			}
		}
		l.SentBytes = int64(120 + r.IntN(200))
		l.TargetTime = math.Round(math.Exp(r.NormFloat64()*0.6-4)*1e6) / 1e6 // ~18ms median
		l.Text = text(r, &l)
		out = append(out, l)
	}
	return out
}

func text(r *rand.Rand, l *Line) string {
	if l.Kind == Malformed {
		if r.IntN(2) == 0 {
			return `h2 2024-05-01T10:00:00.000000Z app/beacon/50dc6c495c0c9188 "unterminated`
		}
		return "garbage that is no access log"
	}
	path, ua := "/e", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"
	q := url.Values{}
	switch l.Kind {
	case Health:
		path, ua = "/health", "ELB-HealthChecker/2.0"
	case OtherPath:
		path = "/favicon.ico"
	default:
		if l.Event != "" {
			q.Set("event", l.Event)
		}
		if l.User != "" {
			q.Set("user", l.User)
		}
		if l.UTMSource != "" {
			q.Set("utm_source", l.UTMSource)
			q.Set("utm_medium", mediums[r.IntN(len(mediums))])
			q.Set("utm_campaign", "spring sale")
		}
	}
	u := "https://beacon.example.com:443" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	created := l.Requested.Format("2006-01-02T15:04:05.000000Z")
	if l.Kind == NoTime {
		created = "-"
	}
	resp := l.Requested.Add(time.Duration(l.TargetTime*float64(time.Second)) + 2*time.Millisecond)
	var b strings.Builder
	fmt.Fprintf(&b, `https %s app/beacon/50dc6c495c0c9188 198.51.100.%d:%d 10.0.1.%d:80 0.001 %.6f 0.000 %d %d 412 %d "GET %s HTTP/1.1" "%s" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/beacon/73e2d6bc24d8a067 "Root=1-%08x-%024x" "beacon.example.com" "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 %s "forward" "-" "-" "10.0.1.%d:80" "%d" "-" "-" TID_%016x`,
		resp.Format("2006-01-02T15:04:05.000000Z"), r.IntN(254)+1, 1024+r.IntN(60000), r.IntN(4)+10,
		l.TargetTime, l.Status, l.Status, l.SentBytes, u, ua, r.Uint32(), r.Uint64(), created, r.IntN(4)+10, l.Status, r.Uint64())
	return b.String()
}

// Day writes a day of logs from start, one gzipped object per 5 minutes
// named as ALB names them, under dir/alb-logs/AWSLogs/..., with perFile
// lines each. It returns the lines written, in order.
func Day(dir string, start time.Time, perFile int, seed uint64) ([]Line, error) {
	var all []Line
	for i := range 288 {
		from := start.Add(time.Duration(i) * 5 * time.Minute)
		lines := Generate(Options{Seed: seed + uint64(i), Start: from, Span: 5 * time.Minute, Lines: perFile, Users: 2000})
		day := from.Format("2006/01/02")
		name := filepath.Join(dir, "alb-logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1", day,
			fmt.Sprintf("123456789012_elasticloadbalancing_eu-west-1_app.beacon.50dc6c495c0c9188_%s_198.51.100.7_%04d.log.gz", from.Add(5*time.Minute).Format("20060102T1504Z"), i))
		if err := writeGzip(name, lines); err != nil {
			return nil, err
		}
		all = append(all, lines...)
	}
	return all, nil
}

func writeGzip(name string, lines []Line) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for _, l := range lines {
		zw.Write([]byte(l.Text + "\n"))
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}
