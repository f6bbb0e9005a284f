package decompress

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Limits cap what a compressed body may inflate to. A zero field means no cap.
type Limits struct {
	// MaxBytes caps the decompressed size.
	MaxBytes int64
	// MaxRatio caps decompressed size / compressed size.
	MaxRatio float64
}

// ratioSlack is the decompressed size always allowed under the ratio cap: a
// small, very repetitive file may inflate 1000-fold and still be harmless.
const ratioSlack = 1 << 20

// LimitError reports that a compressed body inflated past a cap. Read is
// how many decompressed bytes were read when the cap was passed.
type LimitError struct {
	// Limit is "max_decompressed_bytes" or "max_ratio".
	Limit string
	Cap   int64
	Read  int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("decompress: gzip body inflates past %s (cap %d bytes, read %d)", e.Limit, e.Cap, e.Read)
}

// CorruptError reports compressed data that cannot be decoded: a bad
// header, a bad checksum, corrupt deflate data or a truncated file.
type CorruptError struct{ Err error }

func (e *CorruptError) Error() string { return "decompress: corrupt gzip data: " + e.Err.Error() }
func (e *CorruptError) Unwrap() error { return e.Err }

// Reader is a body opened by Open.
type Reader struct {
	r          io.Reader // the decompressed (or plain) stream
	raw        *countingReader
	gz         *gzip.Reader
	compressed int64 // known compressed size, or 0
	limits     Limits
	n          int64 // decompressed bytes returned
	err        error // sticky cap or corruption error
}

// Open returns a Reader over body. compressedSize is the body's stored size
// (its Content-Length) or 0 when unknown; the ratio cap is measured against
// it, or against the compressed bytes read so far when it is unknown.
// Open reads the gzip header when there is one; a bad header is a
// *CorruptError.
func Open(body io.Reader, compressedSize int64, limits Limits) (*Reader, error) {
	raw := &countingReader{r: body}
	br := bufio.NewReaderSize(raw, 64<<10)
	d := &Reader{r: br, raw: raw, compressed: compressedSize, limits: limits}
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, d.classify(err)
		}
		d.gz, d.r = gz, gz
	}
	return d, nil
}

// Gzip reports whether the body is gzip.
func (d *Reader) Gzip() bool { return d.gz != nil }

// CompressedRead is how many bytes of the body have been read.
func (d *Reader) CompressedRead() int64 { return d.raw.n }

// Read reads decompressed bytes. Past a cap it returns a *LimitError; on
// corrupt data a *CorruptError; both are sticky.
func (d *Reader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.gz == nil {
		n, err := d.r.Read(p)
		d.n += int64(n)
		return n, err
	}
	// Read at most one byte past the tightest cap, so passing it is seen
	// without inflating much beyond it.
	if c := d.capNow(); c >= 0 {
		room := c - d.n + 1
		if room < int64(len(p)) {
			p = p[:max(room, 1)]
		}
	}
	n, err := d.r.Read(p)
	d.n += int64(n)
	if lim, c := d.passed(); lim != "" {
		d.err = &LimitError{Limit: lim, Cap: c, Read: d.n}
		over := int(d.n - c)
		if over > n {
			over = n
		}
		d.n -= int64(over)
		return n - over, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = d.classify(err)
		d.err = err
	}
	return n, err
}

// capNow is the tightest cap known now, or -1 for none.
func (d *Reader) capNow() int64 {
	c := int64(-1)
	if d.limits.MaxBytes > 0 {
		c = d.limits.MaxBytes
	}
	if r := d.ratioCap(); r >= 0 && (c < 0 || r < c) {
		c = r
	}
	return c
}

func (d *Reader) ratioCap() int64 {
	if d.limits.MaxRatio <= 0 {
		return -1
	}
	if d.compressed > 0 {
		return max(int64(d.limits.MaxRatio*float64(d.compressed)), ratioSlack)
	}
	return int64(d.limits.MaxRatio*float64(d.raw.n)) + ratioSlack
}

// passed names the cap the stream has gone past, if any.
func (d *Reader) passed() (string, int64) {
	if d.limits.MaxBytes > 0 && d.n > d.limits.MaxBytes {
		return "max_decompressed_bytes", d.limits.MaxBytes
	}
	if r := d.ratioCap(); r >= 0 && d.n > r {
		return "max_ratio", r
	}
	return "", 0
}

// classify turns decoding failures into *CorruptError and leaves I/O
// errors of the body as they are: those are worth retrying, bad data is not.
func (d *Reader) classify(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &ce):
		return &CorruptError{Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF) && d.raw.eof:
		// The body ended cleanly but the gzip stream did not: truncated.
		return &CorruptError{Err: fmt.Errorf("truncated after %d compressed bytes: %w", d.raw.n, err)}
	}
	return fmt.Errorf("decompress: %w", err)
}

// countingReader counts bytes read and remembers a clean end.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if errors.Is(err, io.EOF) {
		c.eof = true
	}
	return n, err
}
