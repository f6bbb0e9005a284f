package localfirehose

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/config"
)

// defaultTimePrefix is what Firehose puts after a prefix with no
// expressions: the UTC hour of the oldest record in the object.
const defaultTimePrefix = "!{timestamp:yyyy/MM/dd/HH}/"

// errorOutputType is the value of !{firehose:error-output-type} for records
// the transform failed (or Firehose failed on the transform's behalf).
const errorOutputType = "processing-failed"

// prefix is a parsed S3 prefix: literal text and !{namespace:value}
// expressions, evaluated per object.
type prefix struct {
	source string
	parts  []prefixPart
	// keys are the partitionKeyFromLambda keys the prefix needs.
	keys []string
	// hasExpr, hasErrorType: the prefix has expressions at all, and
	// !{firehose:error-output-type} among them.
	hasExpr, hasErrorType bool
}

type partKind uint8

const (
	partLiteral partKind = iota
	partTimestamp
	partErrorType
	partRandom
	partKey
)

type prefixPart struct {
	kind  partKind
	text  string      // literal text, or the partition key's name
	stamp []timeToken // for partTimestamp
}

// parsePrefix parses s. Supported: !{timestamp:PATTERN} (Java
// DateTimeFormatter letters yyyy, yy, MM, dd, HH, mm, ss, and 'quoted'
// text), !{firehose:error-output-type}, !{firehose:random-string} and
// !{partitionKeyFromLambda:KEY}.
func parsePrefix(s string) (*prefix, error) {
	p := &prefix{source: s}
	rest := s
	for rest != "" {
		i := strings.Index(rest, "!{")
		if i < 0 {
			p.parts = append(p.parts, prefixPart{kind: partLiteral, text: rest})
			break
		}
		if i > 0 {
			p.parts = append(p.parts, prefixPart{kind: partLiteral, text: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed expression %q (write !{namespace:value})", rest[i:])
		}
		expr := rest[i+2 : i+end]
		rest = rest[i+end+1:]
		ns, value, ok := strings.Cut(expr, ":")
		if !ok || value == "" {
			return nil, fmt.Errorf("expression !{%s} needs a namespace and a value, e.g. !{timestamp:yyyy}", expr)
		}
		p.hasExpr = true
		switch ns {
		case "timestamp":
			tokens, err := parseTimePattern(value)
			if err != nil {
				return nil, fmt.Errorf("!{%s}: %w", expr, err)
			}
			p.parts = append(p.parts, prefixPart{kind: partTimestamp, stamp: tokens})
		case "firehose":
			switch value {
			case "error-output-type":
				p.hasErrorType = true
				p.parts = append(p.parts, prefixPart{kind: partErrorType})
			case "random-string":
				p.parts = append(p.parts, prefixPart{kind: partRandom})
			default:
				return nil, fmt.Errorf("!{%s}: the firehose namespace has error-output-type and random-string only", expr)
			}
		case "partitionKeyFromLambda":
			p.keys = append(p.keys, value)
			p.parts = append(p.parts, prefixPart{kind: partKey, text: value})
		case "partitionKeyFromQuery":
			return nil, fmt.Errorf("!{%s}: jq partitioning is not emulated; return the key from the transform and use !{partitionKeyFromLambda:%s}", expr, value)
		default:
			return nil, fmt.Errorf("!{%s}: unknown namespace %q (want timestamp, firehose or partitionKeyFromLambda)", expr, ns)
		}
	}
	return p, nil
}

// eval renders the prefix for an object whose oldest record arrived at t.
// It returns the name of a partition key the prefix needs but keys lacks.
// perRecord reports whether eval can give records of one batch different
// prefixes: the prefix has a partition key or a random string.
func (p *prefix) perRecord() bool {
	for _, part := range p.parts {
		if part.kind == partKey || part.kind == partRandom {
			return true
		}
	}
	return false
}

func (p *prefix) eval(t time.Time, keys map[string]string, random func() string) (string, string) {
	var b strings.Builder
	t = t.UTC()
	for _, part := range p.parts {
		switch part.kind {
		case partLiteral:
			b.WriteString(part.text)
		case partTimestamp:
			formatTime(&b, t, part.stamp)
		case partErrorType:
			b.WriteString(errorOutputType)
		case partRandom:
			b.WriteString(random())
		case partKey:
			v, ok := keys[part.text]
			if !ok {
				return "", part.text
			}
			b.WriteString(v)
		}
	}
	return b.String(), ""
}

type timeField uint8

const (
	fieldLiteral timeField = iota
	fieldYear4
	fieldYear2
	fieldMonth
	fieldDay
	fieldHour
	fieldMinute
	fieldSecond
)

type timeToken struct {
	field timeField
	text  string
}

// parseTimePattern reads the common subset of Java DateTimeFormatter
// patterns that S3 prefixes use. Letters are pattern letters (an
// unsupported one is an error, as Firehose rejects an invalid pattern);
// other characters and 'quoted' text are literal.
func parseTimePattern(s string) ([]timeToken, error) {
	var out []timeToken
	lit := func(text string) {
		if n := len(out); n > 0 && out[n-1].field == fieldLiteral {
			out[n-1].text += text
			return
		}
		out = append(out, timeToken{field: fieldLiteral, text: text})
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\'' {
			j := i + 1
			var text strings.Builder
			for {
				if j >= len(s) {
					return nil, errors.New("unclosed quote in time pattern")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						text.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				text.WriteByte(s[j])
				j++
			}
			if j == i+1 {
				lit("'") // '' is a literal quote
			} else {
				lit(text.String())
			}
			i = j + 1
			continue
		}
		if !isLetter(c) {
			lit(string(c))
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == c {
			j++
		}
		run := s[i:j]
		var f timeField
		switch run {
		case "yyyy", "uuuu":
			f = fieldYear4
		case "yy", "uu":
			f = fieldYear2
		case "MM":
			f = fieldMonth
		case "dd":
			f = fieldDay
		case "HH":
			f = fieldHour
		case "mm":
			f = fieldMinute
		case "ss":
			f = fieldSecond
		default:
			return nil, fmt.Errorf("pattern letters %q are not supported (use yyyy, yy, MM, dd, HH, mm, ss; quote literal text as 'text')", run)
		}
		out = append(out, timeToken{field: f})
		i = j
	}
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func formatTime(b *strings.Builder, t time.Time, tokens []timeToken) {
	pad := func(n, width int) {
		s := strconv.Itoa(n)
		for i := len(s); i < width; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	for _, tok := range tokens {
		switch tok.field {
		case fieldLiteral:
			b.WriteString(tok.text)
		case fieldYear4:
			pad(t.Year(), 4)
		case fieldYear2:
			pad(t.Year()%100, 2)
		case fieldMonth:
			pad(int(t.Month()), 2)
		case fieldDay:
			pad(t.Day(), 2)
		case fieldHour:
			pad(t.Hour(), 2)
		case fieldMinute:
			pad(t.Minute(), 2)
		case fieldSecond:
			pad(t.Second(), 2)
		}
	}
}

// streamPrefixes resolves a stream's configured Prefix and ErrorPrefix the
// way Firehose does:
//   - a prefix with no expressions gets the UTC hour appended
//     (yyyy/MM/dd/HH/), so "" gives Firehose's default layout;
//   - a prefix with expressions is used as written, and then an error
//     prefix is required;
//   - an error prefix with no expressions (or none at all, when the prefix
//     has none) becomes <it, else the prefix>processing-failed/yyyy/MM/dd/HH/;
//   - an error prefix with expressions must contain
//     !{firehose:error-output-type}.
//
// A problem names the config key at fault.
func streamPrefixes(rawPrefix, rawError string) (ok, failed *prefix, key string, err error) {
	ok, err = parsePrefix(rawPrefix)
	if err != nil {
		return nil, nil, "prefix", err
	}
	if ok.hasErrorType {
		return nil, nil, "prefix", errors.New("!{firehose:error-output-type} may appear only in error_prefix")
	}
	custom := ok.hasExpr
	if !custom {
		if ok, err = parsePrefix(rawPrefix + defaultTimePrefix); err != nil {
			return nil, nil, "prefix", err
		}
	}
	failed, err = parsePrefix(rawError)
	if err != nil {
		return nil, nil, "error_prefix", err
	}
	switch {
	case failed.hasExpr:
		if !failed.hasErrorType {
			return nil, nil, "error_prefix", errors.New("an error prefix with expressions must contain !{firehose:error-output-type}")
		}
		if len(failed.keys) > 0 {
			return nil, nil, "error_prefix", errors.New("!{partitionKeyFromLambda:...} may not appear in error_prefix (failed records have no partition keys)")
		}
	case rawError == "" && custom:
		return nil, nil, "error_prefix", errors.New("is required when prefix has !{...} expressions, and must contain !{firehose:error-output-type}")
	default:
		base := rawError
		if base == "" {
			base = rawPrefix
		}
		if failed, err = parsePrefix(base + "!{firehose:error-output-type}/" + defaultTimePrefix); err != nil {
			return nil, nil, "error_prefix", err
		}
	}
	return ok, failed, "", nil
}

// SampleKeys returns the key of an object the stream named name would
// deliver for records arriving at t, and the key of an object of its
// processing-failed records, as the emulator (and Firehose) names them. A
// partition key the prefix needs is taken from keys, else written as its
// name. A prefix Firehose would reject is an error, and key names the
// stream's config key at fault (prefix or error_prefix). The topology check matches routes against
// these keys to find the routes that read a stream's output.
func SampleKeys(name string, s config.Stream, t time.Time, keys map[string]string) (delivered, failed, key string, err error) {
	ok, bad, key, err := streamPrefixes(s.Prefix, s.ErrorPrefix)
	if err != nil {
		return "", "", key, err
	}
	random := func() string { return "RANDOMSTRNG" }
	all := map[string]string{}
	for _, k := range ok.keys {
		all[k] = k
	}
	for k, v := range keys {
		all[k] = v
	}
	obj := objectName(name, t, "00000000-0000-0000-0000-000000000000")
	d, _ := ok.eval(t, all, random)
	f, _ := bad.eval(t, nil, random)
	return d + obj, f + obj, "", nil
}
