package topology

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/localfirehose"
)

// sampleTime is the arrival time of the sample objects whose keys decide
// which routes read a stream's output: any time gives the same routes
// unless a glob tests the digits of the date.
var sampleTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Graph is the config's routing graph.
type Graph struct {
	cfg *config.Config // for errors naming the file and key
	// Routes are the config's routes, in order.
	Routes []Route
	// Streams are every stream a route sends to or streams: names, by name.
	Streams []Stream
	// DeadLetterKey is a sample key of the splitter's dead letters.
	DeadLetterKey string

	streams map[string]int // name -> index in Streams
	globs   []routeGlobs
}

// Route is one entry of routes.
type Route struct {
	Index  int
	Config config.Route
	// Reads names the streams whose delivered objects this route reads
	// (first match, as the splitter routes them), sorted.
	Reads []string
	// Stage is 1 for a route that reads no stream's output, else one more
	// than the highest stage of the routes sending to the streams it reads.
	Stage int
}

// Stream is one delivery stream.
type Stream struct {
	Name   string
	Config config.Stream
	// Declared: the stream is under streams: (not only named by a route).
	Declared bool
	// Topic: the stream has a prefix of its own (streams.NAME.prefix), so
	// routes may read what it delivers. Its StaticPrefix, the prefix up to
	// its first !{...} expression, is where new objects are routed again
	// (the deployed stack's notification filter).
	Topic        bool
	StaticPrefix string
	// Prefix is where its objects are delivered, with Firehose's default
	// date (YYYY/MM/DD/HH/) written out when the prefix has no expressions.
	Prefix string
	// SampleKeys are keys of objects it would deliver (one per schema a
	// route sends it, for a prefix with partition keys); ErrorKey a key of
	// its processing-failed records.
	SampleKeys []string
	ErrorKey   string
	// From lists the routes that send records to it; ReadBy the routes
	// that read its delivered objects.
	From, ReadBy []int
}

type routeGlobs struct{ bucket, key *regexp.Regexp }

// Build draws the graph of cfg and checks it: no cycle, every stream with
// a prefix of its own read by a route or marked final, no route reading a
// stream's processing-failed records or the splitter's dead letters.
func Build(cfg *config.Config) (*Graph, error) {
	g := &Graph{cfg: cfg, streams: map[string]int{}}
	for i, rt := range cfg.Routes {
		b, err := config.CompileGlob(rt.Bucket)
		if err != nil {
			return nil, g.errf(fmt.Sprintf("routes[%d].bucket", i), "%v", err)
		}
		k, err := config.CompileGlob(rt.Key)
		if err != nil {
			return nil, g.errf(fmt.Sprintf("routes[%d].key", i), "%v", err)
		}
		g.globs = append(g.globs, routeGlobs{b, k})
		g.Routes = append(g.Routes, Route{Index: i, Config: rt})
	}
	names := map[string]bool{}
	for name := range cfg.Streams {
		names[name] = true
	}
	schemas := map[string][]string{} // stream -> schemas sent to it
	for _, rt := range cfg.Routes {
		for _, b := range rt.Branches() {
			names[b.Stream] = true
			schemas[b.Stream] = appendUnique(schemas[b.Stream], b.Schema)
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		sc, declared := cfg.Streams[name]
		s := Stream{Name: name, Config: sc, Declared: declared, Prefix: displayPrefix(sc.Prefix), Topic: sc.Prefix != ""}
		s.StaticPrefix, _, _ = strings.Cut(sc.Prefix, "!{")
		if sc.Schema != "" {
			schemas[name] = appendUnique(schemas[name], sc.Schema)
		}
		vals := schemas[name]
		if len(vals) == 0 {
			vals = []string{"schema"}
		}
		for _, v := range vals {
			key, failed, bad, err := localfirehose.SampleKeys(name, sc, sampleTime, map[string]string{"schema": v})
			if err != nil {
				return nil, g.errf("streams."+name+"."+bad, "%v", err)
			}
			s.SampleKeys = appendUnique(s.SampleKeys, key)
			s.ErrorKey = failed
		}
		g.streams[name] = len(g.Streams)
		g.Streams = append(g.Streams, s)
	}
	for i, rt := range cfg.Routes {
		for _, b := range rt.Branches() {
			s := &g.Streams[g.streams[b.Stream]]
			s.From = appendUniqueInt(s.From, i)
		}
	}
	g.DeadLetterKey = cfg.DeadLetter.Prefix + "0123456789abcdef0123/000000000000.jsonl"
	if err := g.link(); err != nil {
		return nil, err
	}
	if err := g.checkCycles(); err != nil {
		return nil, err
	}
	g.assignStages()
	return g, g.checkTopics()
}

// Match returns the route that reads an object the pipeline wrote with key
// (delivered records, failed records, dead letters): an object under a
// topic's static prefix is routed again, to the first route whose globs
// match it, as the splitter routes. Written objects are in the pipeline's
// output bucket, whose name only the deployment knows: a route reads them
// when its bucket glob matches any name ("*", the default).
func (g *Graph) Match(key string) (int, bool) {
	if !g.routedAgain(key) {
		return 0, false
	}
	for i, gl := range g.globs {
		if gl.bucket.MatchString("") && gl.key.MatchString(key) {
			return i, true
		}
	}
	return 0, false
}

// routedAgain reports whether key is under a topic's static prefix.
func (g *Graph) routedAgain(key string) bool {
	for _, s := range g.Streams {
		if s.Topic && strings.HasPrefix(key, s.StaticPrefix) {
			return true
		}
	}
	return false
}

// link finds the routes reading each stream's output, and refuses a route
// that would read failed records or dead letters as data.
func (g *Graph) link() error {
	if i, ok := g.Match(g.DeadLetterKey); ok {
		return g.errf(fmt.Sprintf("routes[%d].key", i), "%q would read the splitter's dead letters (%s): narrow the key or move dead_letter.prefix", g.Routes[i].Config.Key, g.DeadLetterKey)
	}
	for si := range g.Streams {
		s := &g.Streams[si]
		if i, ok := g.Match(s.ErrorKey); ok {
			return g.errf(fmt.Sprintf("routes[%d].key", i), "%q would read the processing-failed records of stream %s (%s) as data: set streams.%s.error_prefix outside it, or narrow the key", g.Routes[i].Config.Key, s.Name, s.ErrorKey, s.Name)
		}
		for _, key := range s.SampleKeys {
			if i, ok := g.Match(key); ok {
				s.ReadBy = appendUniqueInt(s.ReadBy, i)
				g.Routes[i].Reads = appendUnique(g.Routes[i].Reads, s.Name)
			}
		}
	}
	for i := range g.Routes {
		sort.Strings(g.Routes[i].Reads)
	}
	return nil
}

// checkCycles refuses a route whose records come back to it through the
// streams it sends to: they would be split, delivered and split again
// for ever.
func (g *Graph) checkCycles() error {
	const (
		unseen = iota
		open
		done
	)
	state := make([]int, len(g.Routes))
	var path []int
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = open
		path = append(path, i)
		for _, b := range g.Routes[i].Config.Branches() {
			for _, next := range g.Streams[g.streams[b.Stream]].ReadBy {
				switch state[next] {
				case open:
					return g.cycleError(path, next)
				case unseen:
					if err := visit(next); err != nil {
						return err
					}
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return nil
	}
	for i := range g.Routes {
		if state[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// cycleError names the cycle: route, stream, route... back to the start.
func (g *Graph) cycleError(path []int, back int) error {
	start := 0
	for k, i := range path {
		if i == back {
			start = k
		}
	}
	cycle := append(append([]int(nil), path[start:]...), back)
	var b strings.Builder
	for k, i := range cycle {
		fmt.Fprintf(&b, "routes[%d] (%s)", i, g.Routes[i].Config.Key)
		if k == len(cycle)-1 {
			break
		}
		next := cycle[k+1]
		for _, br := range g.Routes[i].Config.Branches() {
			s := g.Streams[g.streams[br.Stream]]
			if containsInt(s.ReadBy, next) {
				fmt.Fprintf(&b, " -> stream %s -> %s -> ", s.Name, s.Prefix)
				break
			}
		}
	}
	return g.errf(fmt.Sprintf("routes[%d].key", back), "cycle: %s: records would be split and delivered for ever; narrow a route's key or move a stream's prefix", b.String())
}

// assignStages numbers the routes along the chains (the graph is acyclic).
func (g *Graph) assignStages() {
	var stage func(i int) int
	stage = func(i int) int {
		r := &g.Routes[i]
		if r.Stage > 0 {
			return r.Stage
		}
		r.Stage = 1
		for _, name := range r.Reads {
			for _, from := range g.Streams[g.streams[name]].From {
				r.Stage = max(r.Stage, stage(from)+1)
			}
		}
		return r.Stage
	}
	for i := range g.Routes {
		stage(i)
	}
}

// checkTopics refuses a topic (a stream with a prefix of its own) that no
// route reads and that is not final: most likely a chain whose route's key
// does not match the prefix.
func (g *Graph) checkTopics() error {
	for _, s := range g.Streams {
		if s.Config.Prefix == "" || s.Config.Final || len(s.ReadBy) > 0 {
			continue
		}
		hint := ""
		for i, gl := range g.globs {
			if gl.key.MatchString(s.SampleKeys[0]) {
				hint = fmt.Sprintf("; routes[%d] matches the key but not the output bucket (only a route with bucket \"*\" reads delivered objects)", i)
				break
			}
		}
		return g.errf("streams."+s.Name+".prefix", "%q is read by no route (its objects look like %s)%s: add a route reading it (key: %q) or mark the stream final: true if its output leaves the pipeline",
			s.Config.Prefix, s.SampleKeys[0], hint, s.StaticPrefix+"**")
	}
	return nil
}

// Stages is the number of stages: the highest route stage (0 with no
// routes).
func (g *Graph) Stages() int {
	n := 0
	for _, r := range g.Routes {
		n = max(n, r.Stage)
	}
	return n
}

// Stream returns the stream named name.
func (g *Graph) Stream(name string) (Stream, bool) {
	i, ok := g.streams[name]
	if !ok {
		return Stream{}, false
	}
	return g.Streams[i], true
}

// displayPrefix writes Firehose's default date suffix out.
func displayPrefix(p string) string {
	if strings.Contains(p, "!{") {
		return p
	}
	return p + "YYYY/MM/DD/HH/"
}

func (g *Graph) errf(key, format string, args ...any) error {
	return g.cfg.Errorf(key, format, args...)
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

func appendUniqueInt(list []int, n int) []int {
	if containsInt(list, n) {
		return list
	}
	return append(list, n)
}

func containsInt(list []int, n int) bool {
	for _, v := range list {
		if v == n {
			return true
		}
	}
	return false
}
