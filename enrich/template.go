package enrich

import (
	"fmt"
	"net/url"
	"strings"
)

// urlTemplate expands a URL whose scheme and host are literal; record
// values are escaped into the path (one segment each) or the query (one
// value each) and so can never choose where a request goes.
type urlTemplate struct {
	parts  []tmplPart
	scheme string
	host   string
}

type tmplPart struct {
	literal string
	field   string // placeholder name; empty for a literal
	inQuery bool
}

func parseTemplate(raw string) (*urlTemplate, error) {
	u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(raw))
	if err != nil {
		return nil, fmt.Errorf("enrich: url template: %w", err)
	}
	t := &urlTemplate{scheme: u.Scheme, host: u.Host}
	query := strings.IndexByte(raw, '?')
	for pos := 0; pos < len(raw); {
		open := strings.IndexByte(raw[pos:], '{')
		if open < 0 {
			t.parts = append(t.parts, tmplPart{literal: raw[pos:]})
			break
		}
		open += pos
		end := strings.IndexByte(raw[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("enrich: url template: unbalanced {")
		}
		end += open
		if open > pos {
			t.parts = append(t.parts, tmplPart{literal: raw[pos:open]})
		}
		t.parts = append(t.parts, tmplPart{field: raw[open+1 : end], inQuery: query >= 0 && open > query})
		pos = end + 1
	}
	return t, nil
}

// expand fills the placeholders from values (and {secret}) and checks that
// the result still points at the configured scheme and host.
func (t *urlTemplate) expand(values map[string]string, secret string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		v, ok := values[p.field]
		if p.field == "secret" {
			v, ok = secret, true
		}
		if !ok {
			return "", fmt.Errorf("enrich: url template: no value for {%s}", p.field)
		}
		if p.inQuery {
			b.WriteString(url.QueryEscape(v))
		} else {
			b.WriteString(escapeSegment(v))
		}
	}
	s := b.String()
	u, err := url.Parse(s)
	if err != nil || u.Scheme != t.scheme || u.Host != t.host || u.User != nil || u.Fragment != "" {
		// Unreachable with escaping; kept as the last line of defence.
		return "", fmt.Errorf("enrich: expanded URL no longer targets %s://%s", t.scheme, t.host)
	}
	return s, nil
}

// escapeSegment escapes v as one path segment; "." and ".." are escaped too
// so that servers normalising paths cannot be steered up the tree.
func escapeSegment(v string) string {
	switch v {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(v)
}
