package config

import (
	"strings"
	"testing"
	"time"
)

func TestEnricherPresetDefaults(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte("enrichers:\n  - name: geocode\n    preset: google_geocode\n    schema: listing\n    secret: ssm:/sluice/google\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := c.Enrichers[0]
	if e.URL != "https://maps.googleapis.com/maps/api/geocode/json?address={address}&key={secret}" {
		t.Errorf("url = %q", e.URL)
	}
	if len(e.Key) != 1 || e.Key[0] != "address" || e.StatusField != "geocode_status" {
		t.Errorf("key = %v, status_field = %q", e.Key, e.StatusField)
	}
	if e.Map["latitude"] != "results.0.geometry.location.lat" || e.Map["longitude"] != "results.0.geometry.location.lng" {
		t.Errorf("map = %v", e.Map)
	}
	if e.Rate != 10 || e.Burst != 1 || e.Concurrency != 8 || e.Timeout != 2*time.Second || *e.Retries != 2 ||
		e.CacheTTL != 24*time.Hour || e.NegativeTTL != time.Hour || e.OnError != "fail" {
		t.Errorf("defaults not applied: %+v", e)
	}
	before := e
	e.ApplyDefaults()
	if e.URL != before.URL || e.Rate != before.Rate {
		t.Error("ApplyDefaults is not idempotent")
	}
}

func TestEnricherValidation(t *testing.T) {
	const head = "enrichers:\n  - name: g\n    schema: s\n    key: [addr]\n    map: {lat: a.b}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"valid", head + "    url: https://api.example.com/v1/{addr}\n", ""},
		{"name charset", "enrichers:\n  - name: \"a b\"\n    schema: s\n", `enrichers[0].name: "a b" may hold only`},
		{"no url", head, `enrichers[0].url: is required`},
		{"userinfo", head + "    url: \"https://{addr}@api.example.com/\"\n", `enrichers[0].url: placeholders may appear only in the path and query`},
		{"scheme", head + "    url: \"ftp://api.example.com/{addr}\"\n", `enrichers[0].url: must be an absolute http(s) URL`},
		{"fragment", head + "    url: \"https://api.example.com/x#{addr}\"\n", `enrichers[0].url: must not have a fragment`},
		{"unbalanced", head + "    url: \"https://api.example.com/x?q={addr\"\n", `enrichers[0].url: has an unbalanced`},
		{"unknown placeholder", head + "    url: \"https://api.example.com/x?q={city}\"\n", `enrichers[0].url: placeholder {city} is not a key field`},
		{"secret over http", head + "    secret: env:K\n    url: \"http://api.example.com/x?q={addr}&k={secret}\"\n", `enrichers[0].url: sends {secret} over plain http`},
		{"secret over loopback http", head + "    secret: env:K\n    url: \"http://127.0.0.1:8080/x?q={addr}&k={secret}\"\n", ""},
		{"secret missing", head + "    url: \"https://api.example.com/x?q={addr}&k={secret}\"\n", `enrichers[0].secret: is required`},
		{"secret form", head + "    url: \"https://api.example.com/x\"\n    secret: vault:x\n", `enrichers[0].secret: "vault:x": want`},
		{"secret arn", head + "    url: \"https://api.example.com/x\"\n    secret: arn:aws:secretsmanager:eu-west-1:123456789012:secret:k-AbCdEf\n", ""},
		{"header placeholder", head + "    url: \"https://api.example.com/x\"\n    headers: {X-A: \"{addr}\"}\n", `enrichers[0].headers.X-A: only the {secret} placeholder`},
		{"bad path", "enrichers:\n  - name: g\n    schema: s\n    key: [addr]\n    url: https://a.example/\n    map: {lat: a..b}\n", `enrichers[0].map.lat: bad JSON path`},
		{"no key", "enrichers:\n  - name: g\n    schema: s\n    url: https://a.example/\n", `enrichers[0].key: is required`},
		{"status is mapped", head + "    url: https://a.example/\n    status_field: lat\n", `enrichers[0].status_field: "lat" is also a mapped field`},
		{"negative shared", head + "    url: https://a.example/\n    shared_rate: -1\n", `enrichers[0]: rate, burst`},
		{"timeout", head + "    url: https://a.example/\n    timeout: -1s\n", `enrichers[0].timeout: must be positive`},
		{"preset", head + "    url: https://a.example/\n    preset: bing\n", `enrichers[0].preset: unknown preset "bing"`},
		{"twice", head + "    url: https://a.example/\n" + strings.Replace(head, "enrichers:\n", "", 1) + "    url: https://a.example/\n", `enrichers[1].name: "g" is used twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.yaml))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "cfg.yaml:") || !strings.Contains(err.Error(), ": "+tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	got, ok := Placeholders("https://h/{a}/x?b={b}&c={secret}")
	if !ok || strings.Join(got, ",") != "a,b,secret" {
		t.Fatalf("got %v, %v", got, ok)
	}
	for _, bad := range []string{"{", "}", "{}", "{a{b}}", "a}{"} {
		if _, ok := Placeholders(bad); ok {
			t.Errorf("Placeholders(%q) accepted", bad)
		}
	}
}

func FuzzPlaceholders(f *testing.F) {
	for _, s := range []string{"https://h/{a}/x?b={b}", "{", "}{", "{{a}}", "a{b}c{d}e", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tmpl string) {
		names, ok := Placeholders(tmpl)
		if !ok {
			return
		}
		rebuilt := tmpl
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "{}") {
				t.Fatalf("Placeholders(%q) returned name %q", tmpl, n)
			}
			rebuilt = strings.Replace(rebuilt, "{"+n+"}", "", 1)
		}
		if strings.ContainsAny(rebuilt, "{}") {
			t.Fatalf("Placeholders(%q) = %q left braces behind: %q", tmpl, names, rebuilt)
		}
	})
}
