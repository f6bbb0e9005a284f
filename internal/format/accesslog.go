package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
)

// albFields are the fields of an Application Load Balancer access log
// entry, in order, as AWS documents them ("Access logs for your
// Application Load Balancer"). AWS adds new fields at the end.
var albFields = []string{
	"type", "time", "elb", "client:port", "target:port",
	"request_processing_time", "target_processing_time", "response_processing_time",
	"elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
	"request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn",
	"trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
	"request_creation_time", "actions_executed", "redirect_url", "error_reason",
	"target:port_list", "target_status_code_list", "classification",
	"classification_reason", "conn_trace_id", "transformed_host",
	"transformed_uri", "request_transform_status",
}

// elbFields are the fields of a Classic Load Balancer access log entry
// ("Access logs for your Classic Load Balancer").
var elbFields = []string{
	"timestamp", "elb", "client:port", "backend:port",
	"request_processing_time", "backend_processing_time", "response_processing_time",
	"elb_status_code", "backend_status_code", "received_bytes", "sent_bytes",
	"request", "user_agent", "ssl_cipher", "ssl_protocol",
}

// column is how one space-separated entry of a log line becomes fields.
type column struct {
	kind  uint8
	names []string // one name, or ip+port, or method+url+protocol
}

const (
	plainColumn   = iota
	addressColumn // "ip:port"
	requestColumn // "METHOD url PROTOCOL"
)

// logLayout is a load balancer's log format.
type logLayout struct {
	format  string
	columns []column
	// minimum entries a line needs: up to and including the request.
	minimum int
	// reserved are the field names of the log itself; a query parameter
	// with one of these names is prefixed "qs_".
	reserved map[string]bool
}

func newLayout(format string, fields []string) *logLayout {
	l := &logLayout{format: format, reserved: map[string]bool{}}
	for i, f := range fields {
		var c column
		switch {
		case f == "request":
			c = column{requestColumn, []string{"request_method", "request_url", "request_protocol"}}
			l.minimum = i + 1
		case strings.HasSuffix(f, ":port"):
			p := strings.TrimSuffix(f, ":port")
			c = column{addressColumn, []string{p + "_ip", p + "_port"}}
		default:
			c = column{plainColumn, []string{strings.ReplaceAll(f, ":", "_")}}
		}
		for _, n := range c.names {
			l.reserved[n] = true
		}
		l.columns = append(l.columns, c)
	}
	return l
}

var (
	albLayout = newLayout("alb", albFields)
	elbLayout = newLayout("elb", elbFields)
)

// logScanner reads load balancer access logs. Entries are separated by
// spaces; a double-quoted entry may hold spaces, \" for a quote, and
// quotes not followed by a space. "-"
// is null. Entries beyond the documented ones are kept as _field<N> (N
// counts entries from 1). The request URL's query parameters become
// fields of their own, URL-decoded.
type logScanner struct {
	in     input
	set    settings
	layout *logLayout

	// texts holds the records' texts, many to an allocation.
	texts   texts
	fields  []envelope.Field
	flags   flagSet
	entries []entry
	extra   []string         // "_field<N>" names, built once
	names   map[string]param // interned query parameter names, by raw name
	// recent are the interned parameters of the last query string, by
	// position: lines of one log mostly name the same parameters in the
	// same order, which a comparison finds cheaper than the map.
	recent  []param
	params  map[string]int // a long query string's fields by name
	scratch []byte
}

// entry is one space-separated entry of a line: text[a:b].
type entry struct {
	a, b    int
	escaped bool // a quoted entry holding backslash escapes
}

func openALB(r io.Reader, opts Options) (Scanner, error) { return openLog(albLayout, r, opts) }
func openELB(r io.Reader, opts Options) (Scanner, error) { return openLog(elbLayout, r, opts) }

func openLog(l *logLayout, r io.Reader, opts Options) (Scanner, error) {
	set, err := parseOptions(l.format, opts)
	if err != nil {
		return nil, err
	}
	return newLog(l, r, set), nil
}

func newLog(l *logLayout, r io.Reader, set settings) *logScanner {
	return &logScanner{in: newInput(r, set.bufSize), set: set, layout: l, names: map[string]param{}, texts: rowTexts()}
}

// maxInterned bounds the interned query parameter names, so a stream of
// random names cannot grow memory without end.
const maxInterned = 4096

func (s *logScanner) Next() (Record, error) {
	for {
		l, err := s.in.readLine(s.set.maxRecord)
		if err != nil {
			return Record{}, err
		}
		if l.over {
			return Record{}, tooLong(l.start, l.line, l.size, l.content, s.set.maxRecord)
		}
		if isBlank(l.content) {
			continue
		}
		if reason := s.split(l.content); reason != "" {
			return Record{}, &RecordError{Line: l.line, Offset: l.start, Raw: bytes.Clone(l.content), Reason: reason}
		}
		s.fields = s.fields[:0]
		s.flags = s.flags[:0]
		if !s.build(l.content) {
			return Record{}, tooManyFields(l.start, l.line, l.content)
		}
		return Record{Fields: s.fields, Line: l.line, Offset: l.start, Flags: s.flags}, nil
	}
}

// split finds the entries of line b, or says why it cannot.
func (s *logScanner) split(b []byte) string {
	s.entries = s.entries[:0]
	for i := 0; i < len(b); {
		if b[i] == ' ' {
			i++
			continue
		}
		if b[i] != '"' {
			j := indexByteOf(b, i, len(b), ones*' ')
			s.entries = append(s.entries, entry{a: i, b: j})
			i = j
			if len(s.entries) > maxFields {
				return fmt.Sprintf("record has more than %d fields", maxFields)
			}
			continue
		}
		// A quoted entry ends at a quote followed by a space or the end of
		// the line; any other quote in it (a user agent's, unescaped) is
		// text. Only quotes and backslashes are looked at, found eight
		// bytes at a time.
		e := entry{a: i + 1}
		j := i + 1
		for ; ; j++ {
			if j = indexQuoteOrBackslash(b, j); j == len(b) {
				break
			}
			if b[j] == '\\' {
				if j+1 < len(b) && (b[j+1] == '"' || b[j+1] == '\\') {
					e.escaped = true
					j++
				}
				continue
			}
			if j+1 == len(b) || b[j+1] == ' ' {
				break
			}
		}
		if j == len(b) {
			return "unterminated quoted field starting at byte " + strconv.Itoa(i+1) + " of the line"
		}
		e.b = j
		s.entries = append(s.entries, e)
		i = j + 1
		if len(s.entries) > maxFields {
			return fmt.Sprintf("record has more than %d fields", maxFields)
		}
	}
	if len(s.entries) < s.layout.minimum {
		return "an " + s.layout.format + " access log entry has at least " + strconv.Itoa(s.layout.minimum) +
			" fields (up to the request); this line has " + strconv.Itoa(len(s.entries))
	}
	return ""
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in
// b[i:], or len(b).
func indexQuoteOrBackslash(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if m := byteMask(x, ones*'"') | byteMask(x, ones*'\\'); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return len(b)
}

// Borrow makes the lines' fields alias the scanner's buffers (Borrower).
func (s *logScanner) Borrow() { s.texts.borrow = true }

// build turns the entries of line b into fields, or reports false when
// its query string makes them more than maxFields.
func (s *logScanner) build(b []byte) bool {
	text, plain := "", s.set.encoding.plain(b)
	if plain {
		text = s.texts.of(b)
	}
	cols := s.layout.columns
	fields := slices.Grow(s.fields[:0], len(s.entries)+4) // an address and the request add fields
	url := ""
	for k, e := range s.entries {
		var v string
		switch {
		case e.escaped:
			v = s.decode(unescape(b[e.a:e.b]))
		case plain:
			v = text[e.a:e.b]
		default:
			v = s.decode(b[e.a:e.b])
		}
		if k >= len(cols) {
			fields = append(fields, field(s.extraName(k), v))
			continue
		}
		switch c := &cols[k]; c.kind {
		case plainColumn:
			fields = append(fields, field(c.names[0], v))
		case addressColumn:
			ip, port := splitAddress(v)
			fields = append(fields, field(c.names[0], ip), field(c.names[1], port))
		case requestColumn:
			method, u, proto := splitRequest(v)
			fields = append(fields, field(c.names[0], method), field(c.names[1], u), field(c.names[2], proto))
			url = u
		}
	}
	s.fields = fields
	if len(fields) > maxFields {
		return false
	}
	if q := strings.IndexByte(url, '?'); q >= 0 && url != "-" {
		return s.query(url[q+1:])
	}
	return true
}

// field is a field of the log; "-" is null.
func field(name, v string) envelope.Field {
	if v == "-" {
		return envelope.Field{Name: name, Kind: envelope.Null}
	}
	return envelope.Field{Name: name, Value: v}
}

func (s *logScanner) decode(b []byte) string {
	v, flag := s.set.encoding.decode(b)
	s.flags.add(flag)
	return v
}

func (s *logScanner) extraName(k int) string {
	if k >= maxCachedNames {
		return "_field" + strconv.Itoa(k+1)
	}
	for len(s.extra) <= k {
		s.extra = append(s.extra, "_field"+strconv.Itoa(len(s.extra)+1))
	}
	return s.extra[k]
}

// query adds the URL-decoded parameters of query string q as fields. A
// parameter named like a log field is prefixed "qs_"; the values of a
// repeated parameter are joined with ",". It reports false when the
// parameters make the record more than maxFields fields.
func (s *logScanner) query(q string) bool {
	if h := strings.IndexByte(q, '#'); h >= 0 {
		q = q[:h]
	}
	first := len(s.fields)
	clear(s.params)
	for q != "" {
		pair := q
		if i := strings.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			q = ""
		}
		if pair == "" {
			continue
		}
		rawName, rawValue := pair, ""
		if i := strings.IndexByte(pair, '='); i >= 0 {
			rawName, rawValue = pair[:i], pair[i+1:]
		}
		name := s.paramName(rawName, len(s.fields)-first)
		value := s.unescape(rawValue)
		if i := s.param(name, first); i >= 0 {
			s.fields[i].Value += "," + value
			continue
		}
		if len(s.fields) == maxFields {
			return false
		}
		s.fields = append(s.fields, envelope.Field{Name: name, Value: value})
		if len(s.params) > 0 {
			s.params[name] = len(s.fields) - 1
		}
	}
	if len(s.params) > maxInterned {
		s.params = nil // do not keep a huge map for the lines to come
	}
	return true
}

// param finds the field of the query parameter name among the fields from
// first on, or returns -1. A few fields are scanned; past that a map keeps
// a hostile query string of many names from costing quadratic time.
func (s *logScanner) param(name string, first int) int {
	if len(s.fields)-first <= 16 {
		for i := first; i < len(s.fields); i++ {
			if s.fields[i].Name == name {
				return i
			}
		}
		return -1
	}
	if len(s.params) == 0 {
		if s.params == nil {
			s.params = make(map[string]int)
		}
		for i := first; i < len(s.fields); i++ {
			s.params[s.fields[i].Name] = i
		}
	}
	if i, ok := s.params[name]; ok {
		return i
	}
	return -1
}

// param is a query parameter's raw name, as in the query string, its
// field name (the scanner's own copies of both), and the flag its decoding
// gives every record that uses it ("" for none).
type param struct{ raw, name, flag string }

// paramName decodes the raw name of the query string's k-th parameter,
// prefixes it when it names a log field, and interns it: the same few
// names recur on every line.
func (s *logScanner) paramName(raw string, k int) string {
	if k < len(s.recent) && s.recent[k].raw == raw {
		s.flags.add(s.recent[k].flag)
		return s.recent[k].name
	}
	p, ok := s.names[raw]
	if ok {
		s.flags.add(p.flag)
	} else {
		name, flag := s.unescapeFlag(raw)
		s.flags.add(flag)
		if s.layout.reserved[name] || strings.HasPrefix(name, "_field") || name == "" {
			name = "qs_" + name
		}
		if len(s.names) >= maxInterned {
			return name
		}
		// Clones: a substring would keep its whole line alive.
		p = param{raw: strings.Clone(raw), name: strings.Clone(name), flag: flag}
		s.names[p.raw] = p
	}
	switch {
	case k < len(s.recent):
		s.recent[k] = p
	case k == len(s.recent) && k < maxRecent:
		s.recent = append(s.recent, p)
	}
	return p.name
}

// maxRecent bounds the parameters remembered by position.
const maxRecent = 64

// unescape decodes a query string component: "+" is a space and %XX a
// byte. A malformed escape is kept as it is; bytes that do not form UTF-8
// are decoded by the scanner's encoding.
func (s *logScanner) unescape(v string) string {
	v, flag := s.unescapeFlag(v)
	s.flags.add(flag)
	return v
}

// unescapeFlag is unescape, returning the flag for the record instead of
// adding it.
func (s *logScanner) unescapeFlag(v string) (string, string) {
	i := indexEscape(v, 0)
	if i == len(v) {
		return v, ""
	}
	b := append(s.scratch[:0], v[:i]...)
	for i < len(v) {
		switch {
		case v[i] == '+':
			b = append(b, ' ')
			i++
		case i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b = append(b, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 3
		default:
			b = append(b, '%')
			i++
		}
		j := indexEscape(v, i)
		b = append(b, v[i:j]...)
		i = j
	}
	s.scratch = b
	if utf8.Valid(b) {
		return string(b), ""
	}
	return s.set.encoding.decode(b)
}

// indexEscape returns the index of the first '%' or '+' in v[i:], or
// len(v).
func indexEscape(v string, i int) int {
	for ; i < len(v); i++ {
		if c := v[i]; c == '%' || c == '+' {
			return i
		}
	}
	return i
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unescape resolves \" and \\ in a quoted entry.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\') {
			i++
		}
		out = append(out, b[i])
	}
	return out
}

// splitAddress splits "ip:port" at its last colon, so an IPv6 address
// keeps its own colons; brackets around it are dropped. An entry without a
// port is all ip.
func splitAddress(v string) (ip, port string) {
	if v == "-" {
		return "-", "-"
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 || strings.HasSuffix(v, "]") {
		return v, "-"
	}
	ip, port = v[:i], v[i+1:]
	if len(ip) > 1 && ip[0] == '[' && ip[len(ip)-1] == ']' {
		ip = ip[1 : len(ip)-1]
	}
	return ip, port
}

// splitRequest splits a request line into method, URL and protocol. The
// URL is everything between the first and the last space, as a URL with an
// unencoded space is logged as sent. A part that is missing is "-".
func splitRequest(v string) (method, url, proto string) {
	v = strings.Trim(v, " ")
	i := strings.IndexByte(v, ' ')
	if i < 0 {
		if v == "" {
			v = "-"
		}
		return v, "-", "-"
	}
	method, rest := v[:i], strings.TrimLeft(v[i+1:], " ")
	j := strings.LastIndexByte(rest, ' ')
	if j < 0 {
		return method, rest, "-"
	}
	return method, strings.TrimRight(rest[:j], " "), rest[j+1:]
}
