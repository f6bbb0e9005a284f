package enrich

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

const steerTemplate = "https://api.example.com/v1/{a}/json?q={b}&k={secret}"

// hostile are record values that would move a request elsewhere if they
// were not escaped.
var hostile = []string{
	"http://evil/", "../../x", "a&b=c#d", "..", ".", "?x=1", "a/b", "%2F", "@evil.example",
	"//evil.example", "#frag", "a b+c", "\\..\\", "\x00\r\nHost: evil", "é/ü", "",
}

func TestExpandCannotBeSteered(t *testing.T) {
	tmpl, err := parseTemplate(steerTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range hostile {
		got, err := tmpl.expand(map[string]string{"a": v, "b": v}, "s3cr3t")
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		checkExpanded(t, got, v, v)
	}
}

// checkExpanded asserts that the URL has the template's host, path shape
// and query keys, and carries a and b back intact.
func checkExpanded(t testing.TB, got, a, b string) {
	t.Helper()
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("%q does not parse: %v", got, err)
	}
	if u.Scheme != "https" || u.Host != "api.example.com" || u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		t.Fatalf("a=%q b=%q steered the request to %q", a, b, got)
	}
	segs := strings.Split(u.EscapedPath(), "/")
	if len(segs) != 4 || segs[1] != "v1" || segs[3] != "json" {
		t.Fatalf("a=%q changed the path's segments: %q", a, u.EscapedPath())
	}
	if seg, err := url.PathUnescape(segs[2]); err != nil || seg != a {
		t.Fatalf("path segment %q reads back as %q, want %q", segs[2], seg, a)
	}
	q := u.Query()
	if len(q) != 2 || len(q["q"]) != 1 || len(q["k"]) != 1 || q.Get("q") != b || q.Get("k") != "s3cr3t" {
		t.Fatalf("b=%q changed the query: %q", b, u.RawQuery)
	}
}

func FuzzExpand(f *testing.F) {
	for _, v := range hostile {
		f.Add(v, v)
	}
	tmpl, err := parseTemplate(steerTemplate)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := tmpl.expand(map[string]string{"a": a, "b": b}, "s3cr3t")
		if err != nil {
			t.Fatalf("expand(%q, %q): %v", a, b, err)
		}
		checkExpanded(t, got, a, b)
	})
}

func TestExpandNeedsEveryPlaceholder(t *testing.T) {
	tmpl, _ := parseTemplate("https://h.example/{a}")
	if _, err := tmpl.expand(map[string]string{}, ""); err == nil {
		t.Fatal("expanded with a value missing")
	}
}

func FuzzKeyRoundTrip(f *testing.F) {
	for _, v := range hostile {
		f.Add(v, "x")
	}
	e, _ := newTestEnricher(f, func() (c config.Enricher) {
		c = genericConfig("https://api.example.com")
		c.Key = []string{"a", "b"}
		c.URL = "https://api.example.com/{a}?b={b}"
		return c
	}())
	f.Fuzz(func(t *testing.T, a, b string) {
		rec := map[string]string{"a": a, "b": b}
		k, ok := e.Key(func(f string) (string, bool) { v, ok := rec[f]; return v, ok })
		ta, tb := strings.TrimSpace(a), strings.TrimSpace(b)
		if ok != (ta != "" && tb != "") {
			t.Fatalf("Key(%q, %q) ok = %v", a, b, ok)
		}
		if !ok {
			return
		}
		vals, err := e.keyValues(k)
		if err != nil {
			t.Fatal(err)
		}
		// Each invalid UTF-8 byte becomes U+FFFD, as everywhere in sluice's
		// JSON; string([]rune(s)) does the same.
		if vals["a"] != string([]rune(ta)) || vals["b"] != string([]rune(tb)) {
			t.Fatalf("key %q reads back as %q", k, vals)
		}
	})
}
