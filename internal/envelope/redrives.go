package envelope

import (
	"bytes"
	"strconv"
)

// redrivesKey leads an envelope that sluice redrive has put back into a
// stream: {"redrives":2,"v":1,...}. The transform ignores it; redrive reads
// it to park a record that keeps failing. Bare records carry no count.
const redrivesKey = `{"redrives":`

// Redrives returns how many times the envelope in data was redriven, and
// false when data is not an envelope sluice wrote (a bare record).
func Redrives(data []byte) (int, bool) {
	if bytes.HasPrefix(data, []byte(`{"v":`)) {
		return 0, true
	}
	if !bytes.HasPrefix(data, []byte(redrivesKey)) {
		return 0, false
	}
	rest := data[len(redrivesKey):]
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:end]))
	if err != nil || n < 0 || !bytes.HasPrefix(rest[end+1:], []byte(`"v":`)) {
		return 0, false
	}
	return n, true
}

// WithRedrives returns a copy of the envelope in data with its redrive
// count set to n. data must be an envelope (Redrives reported true).
func WithRedrives(data []byte, n int) []byte {
	body := data[1:] // after "{"
	if bytes.HasPrefix(data, []byte(redrivesKey)) {
		body = body[bytes.IndexByte(body, ',')+1:]
	}
	out := make([]byte, 0, len(data)+16)
	out = append(out, redrivesKey...)
	out = strconv.AppendInt(out, int64(n), 10)
	out = append(out, ',')
	return append(out, body...)
}
