// Package stringchunk copies short strings into shared chunks of memory:
// one allocation for many strings, where a string per record (an id, a
// row's text) would otherwise cost an allocation each.
package stringchunk

import "unsafe"

// DefaultSize is a chunk's size when Chunks.Size is not set.
const DefaultSize = 4096

// Chunks copies strings into chunks of Size bytes. A chunk is never
// written again once its bytes are given out, so a copy stays valid for as
// long as anyone keeps it (and its chunk with it): nothing is reused, and
// a copy may outlive the Chunks. A string longer than an eighth of a
// chunk gets memory of its own. The zero value is ready to use; a Chunks
// is not safe for concurrent use.
type Chunks struct {
	Size  int
	chunk []byte
}

// Bytes returns a copy of b as a string.
func (c *Chunks) Bytes(b []byte) string {
	size := c.Size
	if size <= 0 {
		size = DefaultSize
	}
	if len(b) > size/8 {
		return string(b)
	}
	if len(b) > cap(c.chunk)-len(c.chunk) {
		c.chunk = make([]byte, 0, size)
	}
	start := len(c.chunk)
	c.chunk = append(c.chunk, b...)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&c.chunk[start], len(b))
}

// String returns a copy of s.
func (c *Chunks) String(s string) string {
	return c.Bytes(unsafe.Slice(unsafe.StringData(s), len(s))) // read, never written
}
