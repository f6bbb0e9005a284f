package firehose

import (
	"encoding/base64"
	"encoding/binary"
	"sync"
)

// pairs maps 12 bits to their two base64 characters (first in the low byte).
var pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// appendBase64 appends the standard base64 encoding of src, exactly as
// base64.StdEncoding does, with two table lookups per three bytes and one
// store per six: the response is mostly base64.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	out := dst[start:]
	si, di := 0, 0
	for ; si+6 <= len(src); si, di = si+6, di+8 {
		a := uint(src[si])<<16 | uint(src[si+1])<<8 | uint(src[si+2])
		b := uint(src[si+3])<<16 | uint(src[si+4])<<8 | uint(src[si+5])
		binary.LittleEndian.PutUint64(out[di:], uint64(pairs[a>>12])|uint64(pairs[a&0xfff])<<16|
			uint64(pairs[b>>12])<<32|uint64(pairs[b&0xfff])<<48)
	}
	base64.StdEncoding.Encode(out[di:], src[si:])
	return dst
}

// quads maps two base64 characters (first in the low byte) to their 12
// bits, or -1 when either is not in the alphabet. Built on first use.
var (
	quadsOnce sync.Once
	quads     []int16
)

func buildQuads() {
	quads = make([]int16, 1<<16)
	var val [256]int16
	for i := range val {
		val[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		val[alphabet[i]] = int16(i)
	}
	for i := range quads {
		a, b := val[i&0xff], val[i>>8]
		if a < 0 || b < 0 {
			quads[i] = -1
		} else {
			quads[i] = a<<6 | b
		}
	}
}

// decodeBase64 decodes standard base64 into dst (at least DecodedLen long)
// exactly as base64.StdEncoding.Decode does: eight characters become six
// bytes with four lookups. The last group, which may hold padding, and any
// input the fast loop does not take are left to the standard decoder.
func decodeBase64(dst, src []byte) (int, error) {
	quadsOnce.Do(buildQuads)
	si, di := 0, 0
	for ; si+8 < len(src) && di+8 <= len(dst); si, di = si+8, di+6 {
		a := quads[uint16(src[si])|uint16(src[si+1])<<8]
		b := quads[uint16(src[si+2])|uint16(src[si+3])<<8]
		c := quads[uint16(src[si+4])|uint16(src[si+5])<<8]
		d := quads[uint16(src[si+6])|uint16(src[si+7])<<8]
		if a|b|c|d < 0 {
			break // not base64 here: let the standard decoder say where
		}
		binary.BigEndian.PutUint64(dst[di:], (uint64(a)<<36|uint64(b)<<24|uint64(c)<<12|uint64(d))<<16)
	}
	n, err := base64.StdEncoding.Decode(dst[di:], src[si:])
	if err != nil {
		if ce, ok := err.(base64.CorruptInputError); ok {
			return di + n, ce + base64.CorruptInputError(si)
		}
		return di + n, err
	}
	return di + n, nil
}
