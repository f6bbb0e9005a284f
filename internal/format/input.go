package format

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/sluicehq/sluice/internal/jsonx"
	"github.com/sluicehq/sluice/internal/stringchunk"
)

// maxFields caps the fields of one record. A row of a million empty cells
// fits the size limit but would need some 80 MB to hold; it becomes a
// record error instead. (Spreadsheets stop at 16,384 columns.)
const maxFields = 1 << 16

// maxCachedNames bounds the position names (_col<N>, _field<N>) a scanner
// keeps for reuse, so one absurdly wide row cannot hold memory for good.
const maxCachedNames = 1024

// bufferSize is the read buffer of every scanner. Lines longer than this are
// assembled from several reads; it is not a limit on line length.
const bufferSize = 64 << 10

// input is the byte stream under every format. It hands out chunks that end
// at a newline (or fill the buffer, when a line is longer) and counts the
// bytes and lines consumed, so each record knows where it came from.
type input struct {
	br   *bufio.Reader
	off  int64 // offset of the next unread byte
	line int64 // newlines consumed: the next byte is on line line+1
	err  error // sticky: io.EOF at the end, or the read error
	acc  []byte
	read bool // whether reading has begun

	// start and end delimit the input of the last record or record error
	// read: start is its offset, and tests account for every byte by them.
	start, end int64
}

func newInput(r io.Reader, size int) input {
	return input{br: bufio.NewReaderSize(r, size)}
}

// chunk returns the input up to and including the next '\n', a full
// buffer when the line is longer, or the tail of the input. It is valid
// until the next call. A chunk without '\n' is the last one of its line
// only when the input has ended (in.atEOF()).
func (in *input) chunk() ([]byte, error) {
	in.begin()
	if in.err != nil {
		return nil, in.err
	}
	b, err := in.br.ReadSlice('\n')
	switch {
	case err == nil, errors.Is(err, bufio.ErrBufferFull):
	case errors.Is(err, io.EOF):
		in.err = io.EOF
	default:
		// A partial line before a read error is not a record: the whole
		// scan fails and the object is read again.
		in.err = fmt.Errorf("format: reading input at offset %d: %w", in.off+int64(len(b)), err)
		return nil, in.err
	}
	if len(b) == 0 {
		return nil, in.err
	}
	in.off += int64(len(b))
	if b[len(b)-1] == '\n' {
		in.line++
	}
	return b, nil
}

// begin skips a byte order mark before the first read.
func (in *input) begin() {
	if !in.read {
		in.read = true
		in.skipBOM()
	}
}

// pos is where the next record starts: its offset and line.
func (in *input) pos() (int64, int64) {
	in.begin()
	return in.off, in.line + 1
}

// atEOF reports whether the input has no bytes left.
func (in *input) atEOF() bool { return in.err == io.EOF }

// skipBOM drops a UTF-8 byte order mark at the start of the input: it is
// no part of the first record, in any format.
func (in *input) skipBOM() {
	b, err := in.br.Peek(3)
	if bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		in.br.Discard(3)
		in.off += 3
		return
	}
	if err != nil && !errors.Is(err, io.EOF) {
		in.err = fmt.Errorf("format: reading input at offset 0: %w", err)
	}
}

// rawLine is one line of input.
type rawLine struct {
	start, line int64
	// content is the line without its terminator ("\n", "\r\n", or a
	// final "\r"), truncated to the limit when over is true. It is valid
	// until the next read.
	content []byte
	size    int64 // length of the whole content, however long
	over    bool
	eol     string // the terminator: "\n", "\r\n", "" or a final "\r"
}

// readLine reads the next line. A line whose content is longer than limit
// is read to its end in constant memory: only its first limit bytes are
// kept, and over is set.
func (in *input) readLine(limit int) (rawLine, error) {
	l := rawLine{}
	l.start, l.line = in.pos()
	b, err := in.chunk()
	if err != nil {
		return l, err
	}
	newline := b[len(b)-1] == '\n'
	if newline || in.atEOF() {
		l.content = trimEOL(b)
		l.size = int64(len(l.content))
	} else {
		l.content, l.size, newline, err = in.longLine(b, limit)
		if err != nil {
			return l, err
		}
	}
	switch term := in.off - l.start - l.size; {
	case term == 2:
		l.eol = "\r\n"
	case term == 1 && newline:
		l.eol = "\n"
	case term == 1:
		l.eol = "\r"
	}
	if l.size > int64(limit) {
		l.over = true
		l.content = l.content[:min(len(l.content), limit)]
	}
	in.start, in.end = l.start, in.off
	return l, nil
}

// longLine assembles a line longer than the buffer, starting with its
// first chunk, keeping at most limit+2 bytes (room for a "\r\n").
func (in *input) longLine(first []byte, limit int) (content []byte, size int64, newline bool, err error) {
	keep := limit + 2
	in.acc = append(in.acc[:0], first[:min(len(first), keep)]...)
	total := int64(len(first))
	var last2 [2]byte // the last two bytes read, for the terminator
	tail(&last2, first)
	for {
		var b []byte
		b, err = in.chunk()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, false, err
		}
		total += int64(len(b))
		if room := keep - len(in.acc); room > 0 {
			in.acc = append(in.acc, b[:min(len(b), room)]...)
		}
		tail(&last2, b)
		if b[len(b)-1] == '\n' {
			break
		}
	}
	eol := 0
	if last2[1] == '\n' {
		eol = 1
		if last2[0] == '\r' {
			eol = 2
		}
	} else if last2[1] == '\r' {
		eol = 1
	}
	size = total - int64(eol)
	return in.acc[:min(int64(len(in.acc)), size)], size, last2[1] == '\n', nil
}

func tail(last2 *[2]byte, b []byte) {
	if len(b) >= 2 {
		last2[0], last2[1] = b[len(b)-2], b[len(b)-1]
	} else if len(b) == 1 {
		last2[0], last2[1] = last2[1], b[0]
	}
}

// trimEOL removes a line's terminator: "\n", "\r\n", or a "\r" ending the
// input.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports whether b holds only spaces, tabs and carriage returns.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// tooLong is the record error for a record over the size limit. Raw keeps
// the record's first limit bytes.
func tooLong(start, line, size int64, raw []byte, limit int) *RecordError {
	return &RecordError{
		Line:   line,
		Offset: start,
		Raw:    bytes.Clone(raw[:min(len(raw), limit)]),
		Reason: fmt.Sprintf("record is %d bytes, over the %d-byte limit (max_record_bytes); raw text truncated to the limit", size, limit),
	}
}

// tooManyFields is the record error for a record over maxFields fields.
func tooManyFields(start, line int64, raw []byte) *RecordError {
	return &RecordError{
		Line:   line,
		Offset: start,
		Raw:    bytes.Clone(raw),
		Reason: fmt.Sprintf("record has more than %d fields", maxFields),
	}
}

// flagSet collects a record's flags without duplicates.
type flagSet []string

func (f *flagSet) add(flag string) {
	if flag == "" {
		return
	}
	for _, g := range *f {
		if g == flag {
			return
		}
	}
	*f = append(*f, flag)
}

// ones has a one in every byte: times a byte, that byte in every byte.
const ones = 0x0101010101010101

// byteMask has the high bit set of each byte of x that is the byte rep
// holds in every byte, and of no other: exactly, as a borrow from one byte
// into the next could not be.
func byteMask(x, rep uint64) uint64 {
	const low7 = 0x7f7f7f7f7f7f7f7f
	x ^= rep
	return ^((x&low7 + low7) | x | low7)
}

// indexByteOf returns the index of the first byte in b[i:end] that is
// the one rep holds in every byte, or end. Cells and log entries are a few
// bytes long: cheaper than bytes.IndexByte's call.
func indexByteOf(b []byte, i, end int, rep uint64) int {
	for ; i+8 <= end; i += 8 {
		if m := byteMask(binary.LittleEndian.Uint64(b[i:]), rep); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	c := byte(rep)
	for ; i < end; i++ {
		if b[i] == c {
			return i
		}
	}
	return end
}

// rowTexts copies records' texts: rows up to 4 KiB share chunks of 32 KiB.
func rowTexts() texts { return texts{chunks: stringchunk.Chunks{Size: 32 << 10}} }

// texts gives a scanner's records their texts: each its own copy, or,
// once the caller borrows (Borrower), the scanner's memory itself.
type texts struct {
	chunks stringchunk.Chunks
	borrow bool
}

// of returns b as a string: a copy that may be kept, or, when borrowing,
// b itself, valid until the scanner reads on.
func (t *texts) of(b []byte) string {
	if t.borrow {
		return jsonx.Alias(b)
	}
	return t.chunks.Bytes(b)
}
