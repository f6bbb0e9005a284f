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
// base64.StdEncoding does: twelve bytes, read with two loads, become
// sixteen characters with eight lookups and two stores. The response is
// mostly base64.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	start := len(dst)
	if cap(dst)-start < n {
		// Doubled, as append grows: a response written record by record
		// past its first guess is copied a few times, not once a record.
		grown := make([]byte, start, max(start+n, 2*cap(dst)))
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	out := dst[start:]
	// Twelve bytes at a time, read as two overlapping eight-byte loads (so
	// two bytes past the twelfth must exist): the tail, under 14 bytes,
	// is left to the standard encoder, which continues exactly, as what
	// is left starts on a group of three.
	for len(src) >= 14 && len(out) >= 16 {
		x, y := binary.BigEndian.Uint64(src), binary.BigEndian.Uint64(src[6:])
		binary.LittleEndian.PutUint64(out, uint64(pairs[x>>52])|uint64(pairs[x>>40&0xfff])<<16|
			uint64(pairs[x>>28&0xfff])<<32|uint64(pairs[x>>16&0xfff])<<48)
		binary.LittleEndian.PutUint64(out[8:], uint64(pairs[y>>52])|uint64(pairs[y>>40&0xfff])<<16|
			uint64(pairs[y>>28&0xfff])<<32|uint64(pairs[y>>16&0xfff])<<48)
		src, out = src[12:], out[16:]
	}
	base64.StdEncoding.Encode(out, src)
	return dst
}

// quads maps two base64 characters (first in the low byte) to their 12
// bits, or -1 when either is not in the alphabet. Built on first use (the
// splitter never decodes).
var (
	quadsOnce sync.Once
	quads     *[1 << 16]int16
)

func buildQuads() {
	quads = new([1 << 16]int16)
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
// exactly as base64.StdEncoding.Decode does: sixteen characters, read with
// two loads, become twelve bytes with eight lookups. The last group, which
// may hold padding, and any input the fast loop does not take are left to
// the standard decoder.
func decodeBase64(dst, src []byte) (int, error) {
	quadsOnce.Do(buildQuads)
	q := quads
	// Sixteen characters at a time, into two overlapping eight-byte
	// stores (so two bytes past the twelfth must have room). The last
	// group, which may hold padding, is never taken here.
	s, d := src, dst
	for ; len(s) > 16 && len(d) >= 14; s, d = s[16:], d[12:] {
		// A character not in the alphabet looks up -1, whose sign
		// extension makes the group's 48 bits negative.
		x, y := binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
		v := int64(q[uint16(x)])<<36 | int64(q[uint16(x>>16)])<<24 | int64(q[uint16(x>>32)])<<12 | int64(q[uint16(x>>48)])
		w := int64(q[uint16(y)])<<36 | int64(q[uint16(y>>16)])<<24 | int64(q[uint16(y>>32)])<<12 | int64(q[uint16(y>>48)])
		if v|w < 0 {
			break // not base64 here: let the standard decoder say where
		}
		binary.BigEndian.PutUint64(d, uint64(v)<<16)
		binary.BigEndian.PutUint64(d[6:], uint64(w)<<16)
	}
	si, di := len(src)-len(s), len(dst)-len(d)
	n, err := base64.StdEncoding.Decode(dst[di:], src[si:])
	if err != nil {
		if ce, ok := err.(base64.CorruptInputError); ok {
			return di + n, ce + base64.CorruptInputError(si)
		}
		return di + n, err
	}
	return di + n, nil
}
