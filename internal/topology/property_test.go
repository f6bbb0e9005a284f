package topology

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/config"
)

// TestRandomGraphs builds random configs of routes over a few topic
// prefixes. Whatever the config, Build either refuses it or returns a graph
// whose stages follow every chain (a reader's stage is after its feeder's),
// in which no route can reach itself, and in which every topic is read or
// final.
func TestRandomGraphs(t *testing.T) {
	prefixes := []string{"a/", "a/b/", "b/", "c/x/"}
	keys := []string{"in/**", "a/**", "a/b/**", "b/**", "c/**", "c/x/*", "**", "nothing/**"}
	accepted, refused := 0, 0
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var b strings.Builder
		b.WriteString("streams:\n")
		nStreams := 1 + rng.IntN(4)
		for s := range nStreams {
			fmt.Fprintf(&b, "  s%d: {schema: listing", s)
			if rng.IntN(3) > 0 {
				fmt.Fprintf(&b, ", prefix: %q, error_prefix: failed/", prefixes[rng.IntN(len(prefixes))])
			}
			if rng.IntN(3) == 0 {
				b.WriteString(", final: true")
			}
			b.WriteString("}\n")
		}
		b.WriteString("routes:\n")
		for range 1 + rng.IntN(5) {
			fmt.Fprintf(&b, "  - key: %q\n    format: jsonl\n    schema: listing\n", keys[rng.IntN(len(keys))])
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, "    stream: s%d\n", rng.IntN(nStreams))
				continue
			}
			b.WriteString("    to:\n")
			for _, s := range rng.Perm(nStreams)[:1+rng.IntN(nStreams)] {
				fmt.Fprintf(&b, "      - stream: s%d\n", s)
			}
		}
		cfg, err := config.Parse("cfg.yaml", []byte(b.String()))
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, b.String())
		}
		g, err := Build(cfg)
		if err != nil {
			refused++
			continue
		}
		accepted++
		for _, r := range g.Routes {
			for _, br := range r.Config.Branches() {
				s, _ := g.Stream(br.Stream)
				for _, next := range s.ReadBy {
					if g.Routes[next].Stage <= r.Stage {
						t.Fatalf("seed %d: routes[%d] (stage %d) feeds routes[%d] (stage %d)\n%s", seed, r.Index, r.Stage, next, g.Routes[next].Stage, b.String())
					}
				}
			}
		}
		for _, s := range g.Streams {
			if s.Topic && len(s.ReadBy) == 0 && !s.Config.Final {
				t.Fatalf("seed %d: topic %s is read by no route and not final, yet accepted\n%s", seed, s.Name, b.String())
			}
		}
	}
	if accepted < 50 || refused < 50 {
		t.Fatalf("%d accepted, %d refused: the generator does not exercise both", accepted, refused)
	}
}
