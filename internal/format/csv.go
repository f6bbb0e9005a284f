package format

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/envelope"
)

// Flags of csv records.
const (
	// flagRagged marks a row with more or fewer cells than the header.
	flagRagged = "ragged"
	// flagHeaderless marks rows read after an unusable header row: their
	// columns are named by position.
	flagHeaderless = "headerless"
)

// csvScanner reads delimited text with a header row. It is a byte-level
// parser: a row without quotes is split in place with one allocation (the
// row's text); quoted rows go through a small state machine.
type csvScanner struct {
	in    input
	set   settings
	delim byte

	started    bool
	headerless bool
	header     []string
	// headerFlags is, when a header name was not valid text and was
	// decoded, the flag each column's name gives the rows that use it.
	headerFlags []string
	colNames    []string // "_col<N>" names, built once

	// texts holds the records' texts, many to an allocation.
	texts  texts
	fields []envelope.Field
	flags  flagSet
	bounds []int  // start and end of each cell in the row's text
	buf    []byte // a quoted row's cells, unquoted
	raw    []byte // a quoted row's input, kept for its record error

	headerStart, headerEnd int64 // the header row's input, for tests

	// general reads every row with quotes by quoted, the tests' reference
	// for quotedLine.
	general bool
}

func openCSV(r io.Reader, opts Options) (Scanner, error) {
	set, err := parseOptions("csv", opts)
	if err != nil {
		return nil, err
	}
	return newCSV(r, set), nil
}

func newCSV(r io.Reader, set settings) *csvScanner {
	return &csvScanner{in: newInput(r, set.bufSize), set: set, delim: set.delimiter, texts: rowTexts()}
}

// Borrow makes the rows' cells alias the scanner's buffers (Borrower).
func (s *csvScanner) Borrow() { s.texts.borrow = true }

// Next returns the next data row. Cells are named by the header; cells
// beyond it are named _col<N> (N counts from 1) and the row is flagged
// ragged, as is a row with fewer cells.
func (s *csvScanner) Next() (Record, error) {
	if !s.started {
		s.started = true
		if err := s.readHeader(); err != nil {
			return Record{}, err
		}
	}
	src, line, err := s.row()
	if err != nil {
		return Record{}, err
	}
	s.fields = s.fields[:0]
	s.flags = s.flags[:0]
	n := len(s.bounds) / 2
	text, plain := "", s.set.encoding.plain(src) && runeBounds(src, s.bounds[:2*n])
	if plain {
		text = s.texts.of(src)
	}
	if cap(s.fields) < n {
		s.fields = make([]envelope.Field, n)
	}
	fields, bounds := s.fields[:n], s.bounds[:2*n]
	for k := range fields {
		a, b := bounds[2*k], bounds[2*k+1]
		var v string
		if plain {
			v = text[a:b]
		} else {
			var flag string
			v, flag = s.set.encoding.decode(src[a:b])
			s.flags.add(flag)
		}
		var name string
		if k < len(s.header) {
			name = s.header[k]
			if s.headerFlags != nil {
				s.flags.add(s.headerFlags[k])
			}
		} else {
			name = s.name(k)
		}
		fields[k] = envelope.Field{Name: name, Value: v}
	}
	s.fields = fields
	switch {
	case s.headerless:
		s.flags.add(flagHeaderless)
	case n != len(s.header):
		s.flags.add(flagRagged)
	}
	return Record{Fields: s.fields, Line: line, Offset: s.in.start, Flags: s.flags}, nil
}

// runeBounds reports whether every cell bound falls at the start of a
// rune of src. A quoted row's cells are unquoted end to end, so valid text
// can join one cell's last bytes to the next one's first: such cells are
// decoded one by one, like any text that is not valid on its own.
func runeBounds(src []byte, bounds []int) bool {
	for _, i := range bounds {
		if i < len(src) && !utf8.RuneStart(src[i]) {
			return false
		}
	}
	return true
}

// readHeader reads the header row and, unless configured, detects the
// delimiter from its first line. A header that cannot be read (too long,
// an unterminated quote) is returned as a record error, and the rows after
// it are named by position and flagged headerless.
func (s *csvScanner) readHeader() error {
	var l rawLine
	for l.size == 0 {
		var err error
		if l, err = s.in.readLine(s.set.maxRecord); err != nil {
			return err
		}
	}
	if s.delim == 0 {
		s.delim = detectDelimiter(l.content)
	}
	var (
		src []byte
		err error
	)
	switch {
	case l.over:
		err = tooLong(l.start, l.line, l.size, l.content, s.set.maxRecord)
	case bytes.IndexByte(l.content, '"') < 0:
		src = l.content
		if !s.split(l.content) {
			err = tooManyFields(l.start, l.line, l.content)
		}
	default:
		// Quoted names may hold newlines: parse on from the whole line.
		b := append(bytes.Clone(l.content), l.eol...)
		src, _, err = s.quoted(b, l.start, l.line)
	}
	s.headerStart, s.headerEnd = s.in.start, s.in.end
	if _, ok := err.(*RecordError); ok {
		s.headerless = true
		return err
	}
	if err != nil {
		return err
	}
	n := len(s.bounds) / 2
	for k := 0; k < n; k++ {
		name, flag := s.set.encoding.decode(src[s.bounds[2*k]:s.bounds[2*k+1]])
		if name == "" {
			name = s.name(k) // an empty name is named by its position
		}
		if flag != "" && s.headerFlags == nil {
			s.headerFlags = make([]string, n)
		}
		if flag != "" {
			s.headerFlags[k] = flag
		}
		s.header = append(s.header, name)
	}
	dedupe(s.header)
	return nil
}

// dedupe renames the second and later uses of a name to name_2, name_3…,
// skipping suffixes the header already uses, so that a repeated column
// keeps its name (a schema alias or `extra` can still hold it) and no cell
// overwrites another.
func dedupe(names []string) {
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[n] = true
	}
	used := make(map[string]bool, len(names))
	for k, n := range names {
		if used[n] {
			for i := 2; ; i++ {
				c := n + "_" + strconv.Itoa(i)
				if !taken[c] && !used[c] {
					n = c
					break
				}
			}
			names[k] = n
		}
		used[n] = true
	}
}

// name is the name of the k-th cell (from 0).
func (s *csvScanner) name(k int) string {
	if k < len(s.header) {
		return s.header[k]
	}
	if k >= maxCachedNames {
		return "_col" + strconv.Itoa(k+1)
	}
	for len(s.colNames) <= k {
		s.colNames = append(s.colNames, "_col"+strconv.Itoa(len(s.colNames)+1))
	}
	return s.colNames[k]
}

// row reads the next non-empty row into s.bounds and returns the text the
// bounds index and the row's line. The text is valid until the next call.
func (s *csvScanner) row() ([]byte, int64, error) {
	for {
		start, line := s.in.pos()
		b, err := s.in.chunk()
		if err != nil {
			return nil, line, err
		}
		whole := b[len(b)-1] == '\n' || s.in.atEOF()
		content := trimEOL(b)
		if whole && len(content) == 0 {
			continue // an empty line
		}
		if whole {
			if bytes.IndexByte(content, '"') < 0 {
				s.in.start, s.in.end = start, s.in.off
				if len(content) > s.set.maxRecord {
					return nil, line, tooLong(start, line, int64(len(content)), content, s.set.maxRecord)
				}
				if !s.split(content) {
					return nil, line, tooManyFields(start, line, content)
				}
				return content, line, nil
			}
			if !s.general && b[len(b)-1] == '\n' && len(b) <= s.set.maxRecord && s.quotedLine(b) {
				s.in.start, s.in.end = start, s.in.off
				return s.buf, line, nil
			}
		}
		return s.quoted(b, start, line)
	}
}

// split records the cells of a row without quotes, or reports false for
// a row of more than maxFields cells.
func (s *csvScanner) split(b []byte) bool {
	bounds, at, i := s.bounds[:0], 0, 0
	// Eight bytes at a time, every delimiter among them taken in turn.
	rep := ones * uint64(s.delim)
	for ; i+8 <= len(b); i += 8 {
		for m := byteMask(binary.LittleEndian.Uint64(b[i:]), rep); m != 0; m &= m - 1 {
			if len(bounds) == 2*(maxFields-1) {
				s.bounds = bounds
				return false
			}
			k := i + bits.TrailingZeros64(m)>>3
			bounds = append(bounds, at, k)
			at = k + 1
		}
	}
	for ; i < len(b); i++ {
		if b[i] == s.delim {
			if len(bounds) == 2*(maxFields-1) {
				s.bounds = bounds
				return false
			}
			bounds = append(bounds, at, i)
			at = i + 1
		}
	}
	s.bounds = append(bounds, at, len(b))
	return true
}

// quotedLine reads the cells of row b, which ends in its only '\n' and is
// within the size limit, when its quotes are the usual ones: each quoted
// cell closed on the row, by a quote followed by the delimiter or the
// row's end. The cells are unquoted into s.buf, as quoted would, without
// quoted's copy of the row and its state per byte. It reports false, with
// nothing read that counts, for any other row (a cell spanning lines, a
// stray quote, a quote and '\r' inside the row, too many cells): quoted
// then reads it from the start.
func (s *csvScanner) quotedLine(b []byte) bool {
	end := len(b) - 1 // the '\n'
	buf, bounds, delim := s.buf[:0], s.bounds[:0], s.delim
	rep := ones * uint64(delim)
	for i := 0; ; {
		if len(bounds) == 2*maxFields {
			return false // quoted reports the row
		}
		cell := len(buf)
		if b[i] == '"' {
			for i++; ; i++ {
				j := bytes.IndexByte(b[i:end], '"')
				if j < 0 {
					return false // closed on a later line, or never
				}
				buf = append(buf, b[i:i+j]...)
				i += j + 1
				if b[i] != '"' {
					break
				}
				buf = append(buf, '"') // "" in a quoted cell
			}
			bounds = append(bounds, cell, len(buf))
			if b[i] == delim {
				i++
				continue
			}
			if i == end || (i+1 == end && b[i] == '\r') {
				break
			}
			return false // text after the closing quote
		}
		j := indexByteOf(b, i, end, rep)
		buf = append(buf, b[i:j]...)
		if j == end {
			if j > i && b[j-1] == '\r' {
				buf = buf[:len(buf)-1] // the row's "\r\n"
			}
			bounds = append(bounds, cell, len(buf))
			break
		}
		bounds = append(bounds, cell, len(buf))
		i = j + 1
	}
	s.buf, s.bounds = buf, bounds
	return true
}

// States of the quoted-row parser.
const (
	cellStart = iota // at the start of a cell
	unquoted         // in a cell that did not start with a quote
	inQuotes         // in a quoted cell
	quote            // just after a quote in a quoted cell
	quoteCR          // after a quote and a '\r' in a quoted cell
)

// quoted parses a row that has quotes or spans several chunks, starting
// with its first chunk b. Quoted cells may hold delimiters, newlines and
// "" for a quote. A quote closing a cell but followed by more text is kept
// as text, and the rest of the cell read unquoted, so one stray quote
// cannot swallow the rows that follow. A row over the size limit is read
// to its end without being kept.
func (s *csvScanner) quoted(b []byte, start, line int64) ([]byte, int64, error) {
	s.bounds = s.bounds[:0]
	s.buf = s.buf[:0]
	s.raw = s.raw[:0]
	limit := s.set.maxRecord
	keep := limit + 2 // room for a "\r\n"
	delim := s.delim
	var (
		size int64 // input bytes of the row so far
		st   = cellStart
		cell = 0 // start of the current cell in s.buf
		prev byte
		eol  = -1 // terminator length, once the row has ended
	)
	for {
		size += int64(len(b))
		if room := keep - len(s.raw); room > 0 {
			s.raw = append(s.raw, b[:min(len(b), room)]...)
		}
		// A row over the limit is an error whatever its cells: stop
		// keeping them, and parse only to find where the row ends.
		keeping := size <= int64(keep)
		for i := 0; i < len(b); {
			switch st {
			case cellStart:
				if b[i] == '"' {
					st = inQuotes
					i++
					continue
				}
				st = unquoted
			case unquoted:
				j := i
				for j < len(b) && b[j] != delim && b[j] != '\n' {
					j++
				}
				if keeping {
					s.buf = append(s.buf, b[i:j]...)
				}
				i = j + 1
				if j == len(b) {
					continue
				}
				if b[j] == '\n' {
					eol = 1
					if (j > 0 && b[j-1] == '\r') || (j == 0 && prev == '\r') {
						eol = 2
						s.trimCR(cell)
					}
				} else {
					st = cellStart
				}
				cell = s.endCell(cell)
			case inQuotes:
				j := bytes.IndexByte(b[i:], '"')
				if j < 0 {
					j = len(b) - i
				} else {
					st = quote
				}
				if keeping {
					s.buf = append(s.buf, b[i:i+j]...)
				}
				i += j + 1
			case quote:
				switch b[i] {
				case '"':
					if keeping {
						s.buf = append(s.buf, '"')
					}
					st = inQuotes
					i++
				case delim, '\n':
					if b[i] == '\n' {
						eol = 1
					}
					cell = s.endCell(cell)
					st = cellStart
					i++
				case '\r':
					st = quoteCR
					i++
				default:
					if keeping {
						s.buf = append(s.buf, '"')
					}
					st = unquoted
				}
			case quoteCR:
				if b[i] == '\n' {
					eol = 2
					cell = s.endCell(cell)
					i++
					continue
				}
				if keeping {
					s.buf = append(s.buf, '"', '\r')
				}
				st = unquoted
			}
		}
		prev = b[len(b)-1]
		if eol >= 0 {
			break
		}
		if !s.in.atEOF() {
			next, err := s.in.chunk()
			if err == nil {
				b = next
				continue
			}
			if err != io.EOF {
				return nil, line, err
			}
		}
		// The input ends the row.
		s.in.start, s.in.end = start, s.in.off
		switch st {
		case inQuotes:
			return nil, line, &RecordError{
				Line:   line,
				Offset: start,
				Raw:    bytes.Clone(s.raw[:min(len(s.raw), limit)]),
				Reason: "unterminated quoted field: the quote opened in the row at line " + strconv.FormatInt(line, 10) + " is never closed",
			}
		case unquoted:
			eol = 0
			if prev == '\r' {
				eol = 1
				s.trimCR(cell)
			}
		case quoteCR:
			eol = 1
		default:
			eol = 0
		}
		s.endCell(cell)
		break
	}
	s.in.start, s.in.end = start, s.in.off
	n := size - int64(eol)
	if n > int64(limit) {
		return nil, line, tooLong(start, line, n, s.raw, limit)
	}
	if len(s.bounds) > 2*maxFields {
		return nil, line, tooManyFields(start, line, s.raw[:n])
	}
	return s.buf, line, nil
}

// endCell ends the cell that starts at cell in s.buf and returns where the
// next one starts. Past maxFields cells, cells are no longer recorded: the
// row is an error.
func (s *csvScanner) endCell(cell int) int {
	if len(s.bounds) <= 2*maxFields {
		s.bounds = append(s.bounds, cell, len(s.buf))
	}
	return len(s.buf)
}

// trimCR drops a '\r' ending the cell that starts at cell: it belonged to
// the row's "\r\n".
func (s *csvScanner) trimCR(cell int) {
	if n := len(s.buf); n > cell && s.buf[n-1] == '\r' {
		s.buf = s.buf[:n-1]
	}
}

// detectDelimiter picks the delimiter that occurs most often, outside
// quotes, in the header's first line: ',' ';' tab or '|', in that order
// on a tie, and ',' when none occurs.
func detectDelimiter(b []byte) byte {
	cands := [4]byte{',', ';', '\t', '|'}
	var n [4]int
	in := false
	for _, c := range b {
		if c == '"' {
			in = !in
			continue
		}
		if in {
			continue
		}
		if c == '\n' {
			break
		}
		for i, d := range cands {
			if c == d {
				n[i]++
			}
		}
	}
	best := 0
	for i := range cands {
		if n[i] > n[best] {
			best = i
		}
	}
	return cands[best]
}
