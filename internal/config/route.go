package config

import (
	"fmt"
	"regexp"
)

// Router finds the first route whose bucket and key globs match: the
// splitter routes objects with it, and the transform finds the route a
// record came through from its provenance.
type Router struct {
	routes []compiledRoute
}

type compiledRoute struct {
	bucket, key *regexp.Regexp
}

// NewRouter compiles the routes' globs.
func NewRouter(routes []Route) (*Router, error) {
	r := &Router{}
	for i, rt := range routes {
		b, err := CompileGlob(rt.Bucket)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].bucket: %w", i, err)
		}
		k, err := CompileGlob(rt.Key)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].key: %w", i, err)
		}
		r.routes = append(r.routes, compiledRoute{bucket: b, key: k})
	}
	return r, nil
}

// Match returns the index of the first route for bucket and the
// URL-decoded key.
func (r *Router) Match(bucket, key string) (int, bool) {
	for i, c := range r.routes {
		if c.bucket.MatchString(bucket) && c.key.MatchString(key) {
			return i, true
		}
	}
	return -1, false
}
