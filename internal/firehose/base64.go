package firehose

import (
	"encoding/base64"
	"encoding/binary"
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
