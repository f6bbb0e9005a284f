package splitter

import (
	"fmt"
	"regexp"

	"github.com/sluicehq/sluice/internal/config"
)

// router finds the first route whose bucket and key globs match.
type router struct {
	routes []compiledRoute
}

type compiledRoute struct {
	bucket, key *regexp.Regexp
	route       config.Route
	branches    []branch
}

func newRouter(routes []config.Route) (*router, error) {
	r := &router{}
	for i, rt := range routes {
		b, err := config.CompileGlob(rt.Bucket)
		if err != nil {
			return nil, fmt.Errorf("splitter: routes[%d].bucket: %w", i, err)
		}
		k, err := config.CompileGlob(rt.Key)
		if err != nil {
			return nil, fmt.Errorf("splitter: routes[%d].key: %w", i, err)
		}
		br, err := compileBranches(fmt.Sprintf("routes[%d]", i), rt)
		if err != nil {
			return nil, err
		}
		r.routes = append(r.routes, compiledRoute{bucket: b, key: k, route: rt, branches: br})
	}
	return r, nil
}

// match returns the first route for bucket and the URL-decoded key, and
// its branches (a copy for the caller's object to count into).
func (r *router) match(bucket, key string) (config.Route, []branch, bool) {
	for _, c := range r.routes {
		if c.bucket.MatchString(bucket) && c.key.MatchString(key) {
			return c.route, append([]branch(nil), c.branches...), true
		}
	}
	return config.Route{}, nil, false
}
