package deploy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/topology"
)

// Destinations a stream may deliver to.
const (
	ToS3         = "s3"
	ToOpenSearch = "opensearch"
	ToRedshift   = "redshift"
)

// stack is what the template is generated from: the config, read for what
// the deployment needs.
type stack struct {
	// Config is the config file's path, named in the template's description.
	Config string
	// Streams are the config's streams, sorted by name.
	Streams []stream
	// InputPrefixes are the key prefixes of the routes on the stack's input
	// bucket; OutputPrefixes those of routes reading what a stream delivered
	// (chains). Neither holds a prefix another one covers: S3 refuses
	// overlapping notifications. "" stands for every key.
	InputPrefixes, OutputPrefixes []string
	// ExistingBuckets are buckets outside the stack that routes name.
	ExistingBuckets []string
	// DeadLetterPrefix is where the splitter writes dead letters.
	DeadLetterPrefix string
	// Enriches is true when the transform calls lookup APIs.
	Enriches bool
	// SSMParameters are the SSM parameter names enrichers read secrets from.
	SSMParameters []string
}

// stream is one Firehose delivery stream.
type stream struct {
	// Name is the stream's name in the config, and in AWS.
	Name string
	// Logical prefixes its resources' and parameters' logical ids.
	Logical string
	// S3Prefix and S3ErrorPrefix are its Firehose Prefix and
	// ErrorOutputPrefix, expressions included, resolved from the config's
	// prefix and error_prefix as the local emulator resolves them.
	S3Prefix, S3ErrorPrefix string
	// Prefix and ErrorPrefix are their fixed parts, before any expression:
	// what routes of a chain read, and what they must not.
	Prefix, ErrorPrefix string
	// Partitioned streams deliver under schema=<schema>/ (partition_keys).
	Partitioned bool
	// Pack is the config's pack.
	Pack bool
	// Destinations are those the stream may be deployed to: packed records
	// cannot go to OpenSearch (one record, one document), and dynamic
	// partitioning is for S3 only.
	Destinations []string
	// Fed is true when a route of the config sends records to it.
	Fed bool
	// SourceBackup is the default of its SourceBackup parameter: the
	// config's source_backup, else true for a stream no route feeds (fed
	// from outside, e.g. webhooks: the stream holds the only copy).
	SourceBackup bool
}

// HasDestination reports whether d is one of the stream's destinations.
func (s stream) HasDestination(d string) bool {
	for _, x := range s.Destinations {
		if x == d {
			return true
		}
	}
	return false
}

// Choice reports whether the destination is a parameter.
func (s stream) Choice() bool { return len(s.Destinations) > 1 }

// prefixChars are the characters a generated S3 prefix may hold: those
// safe in a key and in a YAML plain or quoted string.
var prefixChars = regexp.MustCompile(`^[a-zA-Z0-9!_.*'()/=-]*$`)

// newStack reads cfg.
func newStack(cfg *config.Config) (*stack, error) {
	st := &stack{Config: filepath.Base(cfg.Path), DeadLetterPrefix: cfg.DeadLetter.Prefix, Enriches: len(cfg.Enrichers) > 0}
	if len(cfg.Streams) == 0 {
		return nil, fmt.Errorf("%s: streams: none configured; the stack needs at least one delivery stream", cfg.Path)
	}
	if !prefixChars.MatchString(st.DeadLetterPrefix) || !strings.HasSuffix(st.DeadLetterPrefix, "/") {
		return nil, fmt.Errorf("%s: dead_letter.prefix %q: a deployed prefix must end in / and use only letters, digits and !_.*'()/=-", cfg.Path, st.DeadLetterPrefix)
	}
	fed := map[string]bool{}
	for _, r := range cfg.Routes {
		for _, name := range routeStreams(r) {
			fed[name] = true
		}
	}
	logical := map[string]string{}
	names := make([]string, 0, len(cfg.Streams))
	for name := range cfg.Streams {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cfg.Streams[name]
		s := stream{Name: name, Logical: Logical(name), Pack: c.Pack, Partitioned: c.PartitionKeys, Fed: fed[name], SourceBackup: !fed[name]}
		if c.SourceBackup != nil {
			s.SourceBackup = *c.SourceBackup
		}
		if s.Logical == "" || !unicode.IsLetter(rune(s.Logical[0])) {
			return nil, fmt.Errorf("%s: streams.%s: a stream's name must start with a letter to name its resources", cfg.Path, name)
		}
		if other, ok := logical[s.Logical]; ok {
			return nil, fmt.Errorf("%s: streams.%s and streams.%s would name the same resources (%s): rename one", cfg.Path, other, name, s.Logical)
		}
		logical[s.Logical] = name
		if len(name) > 64 || !regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`).MatchString(name) {
			return nil, fmt.Errorf("%s: streams.%s: a Firehose stream name has 1 to 64 letters, digits, _ . or -", cfg.Path, name)
		}
		if err := s.resolvePrefixes(c.Prefix, c.ErrorPrefix); err != nil {
			return nil, fmt.Errorf("%s: streams.%s.%v", cfg.Path, name, err)
		}
		switch {
		case s.Partitioned && s.Pack:
			return nil, fmt.Errorf("%s: streams.%s: pack and partition_keys exclude each other (a packed record has one set of partition keys): set pack: false", cfg.Path, name)
		case s.Partitioned:
			s.Destinations = []string{ToS3}
		case s.Pack:
			s.Destinations = []string{ToS3, ToRedshift}
		default:
			s.Destinations = []string{ToS3, ToOpenSearch, ToRedshift}
		}
		st.Streams = append(st.Streams, s)
	}

	// The routing graph (internal/topology) says which streams are topics
	// that routes read: their static prefixes, in the output bucket, are
	// where delivered objects are routed again. It also refuses cycles and
	// routes that would read failed records or dead letters.
	g, err := topology.Build(cfg)
	if err != nil {
		return nil, err
	}
	var topics []string
	for _, ts := range g.Streams {
		if ts.Topic && len(ts.ReadBy) > 0 {
			if !prefixChars.MatchString(ts.StaticPrefix) {
				return nil, fmt.Errorf("%s: streams.%s.prefix %q: its fixed part has characters an S3 notification filter is not generated for", cfg.Path, ts.Name, ts.Config.Prefix)
			}
			topics = append(topics, ts.StaticPrefix)
		}
	}
	var input []string
	existing := map[string]bool{}
	for i, r := range g.Routes {
		p := literalPrefix(r.Config.Key)
		if !prefixChars.MatchString(p) {
			return nil, fmt.Errorf("%s: routes[%d].key %q: its fixed prefix %q has characters an S3 notification filter is not generated for", cfg.Path, i, r.Config.Key, p)
		}
		if !strings.ContainsAny(r.Config.Bucket, `*?[\`) {
			existing[r.Config.Bucket] = true
			continue
		}
		// A route that reads a topic, with a key inside it, reads only
		// delivered objects; any other reads new objects of the input bucket.
		if len(r.Reads) > 0 && coveredBy(p, topics) {
			continue
		}
		input = append(input, p)
	}
	st.InputPrefixes, st.OutputPrefixes = disjoint(input), disjoint(topics)
	for b := range existing {
		st.ExistingBuckets = append(st.ExistingBuckets, b)
	}
	sort.Strings(st.ExistingBuckets)

	ssm := map[string]bool{}
	for _, e := range cfg.Enrichers {
		if name, ok := ssmName(e.Secret); ok {
			ssm[name] = true
		}
	}
	for n := range ssm {
		st.SSMParameters = append(st.SSMParameters, n)
	}
	sort.Strings(st.SSMParameters)
	return st, nil
}

// timePrefix is what Firehose puts after a prefix with no expressions.
const timePrefix = "!{timestamp:yyyy/MM/dd/HH}/"

// expressionChars are the characters a prefix may hold besides prefixChars,
// inside its !{...} expressions.
var expressionChars = regexp.MustCompile(`^[a-zA-Z0-9!_.*'()/=:{}-]*$`)

// resolvePrefixes sets the stream's prefixes from the config's prefix and
// error_prefix, as the local emulator reads them: a prefix with no !{...}
// expression gets the hour appended, one with expressions is used as
// written; an error prefix with no expression becomes <it, else the prefix,
// else errors/<stream>/>!{firehose:error-output-type}/<hour>/. A stream
// with no prefix delivers under data/<stream>/, apart from the others.
func (s *stream) resolvePrefixes(prefix, errorPrefix string) error {
	if prefix == "" {
		prefix = "data/" + s.Name + "/"
		if errorPrefix == "" {
			errorPrefix = "errors/" + s.Name + "/"
		}
	}
	for key, p := range map[string]string{"prefix": prefix, "error_prefix": errorPrefix} {
		if !expressionChars.MatchString(p) {
			return fmt.Errorf("%s %q: a deployed prefix uses only letters, digits, !_.*'()/=- and !{...} expressions", key, p)
		}
	}
	s.Prefix, _, _ = strings.Cut(prefix, "!{")
	s.S3Prefix = prefix
	if !strings.Contains(prefix, "!{") {
		if s.Partitioned {
			// Firehose needs the partition key in the prefix.
			s.S3Prefix += "schema=!{partitionKeyFromLambda:schema}/"
		}
		s.S3Prefix += timePrefix
	}
	switch {
	case strings.Contains(errorPrefix, "!{"):
		if !strings.Contains(errorPrefix, "!{firehose:error-output-type}") {
			return fmt.Errorf("error_prefix %q: an error prefix with expressions must contain !{firehose:error-output-type}", errorPrefix)
		}
		s.S3ErrorPrefix = errorPrefix
	case errorPrefix == "" && strings.Contains(prefix, "!{"):
		return fmt.Errorf("error_prefix: is required when prefix has !{...} expressions")
	default:
		if errorPrefix == "" {
			errorPrefix = prefix
		}
		s.S3ErrorPrefix = errorPrefix + "!{firehose:error-output-type}/" + timePrefix
	}
	s.ErrorPrefix, _, _ = strings.Cut(s.S3ErrorPrefix, "!{")
	if !strings.HasSuffix(s.Prefix, "/") && s.Prefix != "" {
		return fmt.Errorf("prefix %q: a deployed prefix's fixed part must end in /, so that the stream's objects have a prefix of their own", prefix)
	}
	return nil
}

// routeStreams returns the streams a route sends records to.
func routeStreams(r config.Route) []string {
	var out []string
	for _, b := range r.Branches() {
		out = append(out, b.Stream)
	}
	return out
}

// coveredBy reports whether prefix lies under one of prefixes.
func coveredBy(prefix string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(prefix, p) {
			return true
		}
	}
	return false
}

// literalPrefix returns the part of a key glob before its first wildcard.
func literalPrefix(glob string) string {
	if i := strings.IndexAny(glob, `*?[\{`); i >= 0 {
		return glob[:i]
	}
	return glob
}

// disjoint returns the prefixes no other one covers, sorted.
func disjoint(prefixes []string) []string {
	sort.Strings(prefixes)
	var out []string
	for _, p := range prefixes {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ssmName returns the parameter name of an ssm: secret or SSM ARN.
func ssmName(secret string) (string, bool) {
	if name, ok := strings.CutPrefix(secret, "ssm:"); ok {
		return strings.TrimPrefix(name, "/"), true
	}
	if strings.HasPrefix(secret, "arn:") && strings.Contains(secret, ":ssm:") {
		if _, name, ok := strings.Cut(secret, ":parameter/"); ok {
			return name, true
		}
	}
	return "", false
}

// Logical returns the logical id prefix of a stream's resources and
// parameters in the generated template: page_views -> PageViews.
func Logical(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) || r > unicode.MaxASCII {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
