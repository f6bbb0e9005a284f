package splitter

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
)

// router finds the first route whose bucket and key globs match.
type router struct {
	routes []compiledRoute
}

type compiledRoute struct {
	bucket, key *regexp.Regexp
	route       config.Route
}

func newRouter(routes []config.Route) (*router, error) {
	r := &router{}
	for i, rt := range routes {
		b, err := compileGlob(rt.Bucket)
		if err != nil {
			return nil, fmt.Errorf("splitter: routes[%d].bucket: %w", i, err)
		}
		k, err := compileGlob(rt.Key)
		if err != nil {
			return nil, fmt.Errorf("splitter: routes[%d].key: %w", i, err)
		}
		r.routes = append(r.routes, compiledRoute{bucket: b, key: k, route: rt})
	}
	return r, nil
}

// match returns the first route for bucket and the URL-decoded key.
func (r *router) match(bucket, key string) (config.Route, bool) {
	for _, c := range r.routes {
		if c.bucket.MatchString(bucket) && c.key.MatchString(key) {
			return c.route, true
		}
	}
	return config.Route{}, false
}

// compileGlob turns a glob into an anchored regexp: "*" matches within one
// path segment, "**" across segments ("a/**/b" also matches "a/b"), "?" one
// character other than "/", and [...] a class as in path.Match.
func compileGlob(glob string) (*regexp.Regexp, error) {
	if glob == "" {
		glob = "*"
	}
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '*' && strings.HasPrefix(glob[i:], "**/"):
			b.WriteString(`(?:.*/)?`)
			i += 2
		case c == '*' && strings.HasPrefix(glob[i:], "**"):
			b.WriteString(`.*`)
			i++
		case c == '*':
			b.WriteString(`[^/]*`)
		case c == '?':
			b.WriteString(`[^/]`)
		case c == '[':
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("bad glob %q: unclosed [", glob)
			}
			class := glob[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end + 1
		case c == '\\' && i+1 < len(glob):
			i++
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(glob[i : i+1]))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("bad glob %q: %w", glob, err)
	}
	return re, nil
}
