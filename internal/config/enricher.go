package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

var enricherName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Check validates one enricher after ApplyDefaults. It returns the key
// (relative to the enricher, e.g. "url"; empty when the problem spans
// keys) and the problem, which is empty when the enricher is valid.
func (e *Enricher) Check() (key, problem string) {
	switch {
	case e.Name == "":
		return "name", "is required"
	case !enricherName.MatchString(e.Name):
		return "name", fmt.Sprintf("%q may hold only letters, digits, _ and - (it is part of cache keys and metrics)", e.Name)
	case e.Schema == "":
		return "schema", "is required"
	case e.Preset != "" && !contains(Presets, e.Preset):
		return "preset", fmt.Sprintf("unknown preset %q (want one of %s)", e.Preset, strings.Join(Presets, ", "))
	case e.OnError != "fail" && e.OnError != "pass":
		return "on_error", fmt.Sprintf("must be fail or pass, got %q", e.OnError)
	case e.Rate < 0 || e.Burst < 0 || e.Concurrency < 0 || e.Retries == nil || *e.Retries < 0 || e.SharedRate < 0:
		return "", "rate, burst, concurrency, retries and shared_rate must not be negative"
	case e.Timeout <= 0:
		return "timeout", "must be positive"
	case e.CacheTTL <= 0 || e.NegativeTTL <= 0:
		return "cache_ttl", "cache_ttl and negative_ttl must be positive"
	}
	if k, p := e.checkURL(); p != "" {
		return k, p
	}
	if len(e.Key) == 0 {
		return "key", "is required (the record fields the lookup key is built from)"
	}
	for i, f := range e.Key {
		if strings.TrimSpace(f) == "" {
			return fmt.Sprintf("key[%d]", i), "is empty"
		}
	}
	if len(e.Map) == 0 {
		return "map", "is required (schema field: JSON path in the response)"
	}
	for _, field := range sortedKeys(e.Map) {
		p := e.Map[field]
		if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return "map." + field, fmt.Sprintf("bad JSON path %q (want dot-separated names and indexes, e.g. results.0.geometry.location.lat)", p)
		}
		if field == e.StatusField {
			return "status_field", fmt.Sprintf("%q is also a mapped field", field)
		}
	}
	usesSecret := strings.Contains(e.URL, "{secret}")
	for _, name := range sortedKeys(e.Headers) {
		v := e.Headers[name]
		if strings.Contains(v, "{secret}") {
			usesSecret = true
		}
		if rest := strings.ReplaceAll(v, "{secret}", ""); strings.ContainsAny(rest, "{}") {
			return "headers." + name, "only the {secret} placeholder is allowed in headers"
		}
	}
	if e.Secret != "" {
		if p := checkSecretRef(e.Secret); p != "" {
			return "secret", p
		}
	} else if usesSecret {
		return "secret", "is required: the url or a header uses {secret}"
	}
	return "", ""
}

// checkURL makes sure record values can never choose where a request goes:
// scheme and host are literal, placeholders sit only in path and query.
func (e *Enricher) checkURL() (key, problem string) {
	if e.URL == "" {
		return "url", "is required (e.g. https://api.example.com/v1/lookup?q={field})"
	}
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(e.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "url", fmt.Sprintf("must be an absolute http(s) URL, got %q", e.URL)
	}
	if hostPart := e.URL[:min(len(e.URL), len(u.Scheme)+3+len(u.Host))]; strings.ContainsAny(hostPart, "{}@") {
		return "url", "placeholders may appear only in the path and query, never the scheme, user or host"
	}
	if strings.Contains(e.URL, "#") {
		return "url", "must not have a fragment"
	}
	names, ok := Placeholders(e.URL)
	if !ok {
		return "url", "has an unbalanced { or }"
	}
	for _, n := range names {
		if n == "secret" {
			if u.Scheme == "http" && !isLoopback(u.Hostname()) {
				return "url", "sends {secret} over plain http; use https"
			}
			continue
		}
		if !contains(e.Key, n) {
			return "url", fmt.Sprintf("placeholder {%s} is not a key field (key: %s)", n, strings.Join(e.Key, ", "))
		}
	}
	return "", ""
}

// Placeholders returns the {name} placeholders of a template in order, and
// false when braces are unbalanced or a name is empty.
func Placeholders(tmpl string) ([]string, bool) {
	var names []string
	for {
		open := strings.IndexAny(tmpl, "{}")
		if open < 0 {
			return names, true
		}
		if tmpl[open] == '}' {
			return nil, false
		}
		end := strings.IndexAny(tmpl[open+1:], "{}")
		if end <= 0 || tmpl[open+1+end] != '}' {
			return nil, false
		}
		names = append(names, tmpl[open+1:open+1+end])
		tmpl = tmpl[open+2+end:]
	}
}

func checkSecretRef(ref string) string {
	kind, name, _ := strings.Cut(ref, ":")
	switch {
	case kind == "secretsmanager" || kind == "ssm" || kind == "env":
		if name == "" {
			return fmt.Sprintf("%q names nothing after %s:", ref, kind)
		}
		return ""
	case kind == "arn" && (strings.Contains(ref, ":secretsmanager:") || strings.Contains(ref, ":ssm:")):
		return ""
	}
	return fmt.Sprintf("%q: want secretsmanager:NAME, ssm:/path, an ARN of either, or env:VAR (local runs only)", ref)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
