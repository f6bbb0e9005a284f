package redrive

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Picker names the delivery stream a dead letter belongs to.
type Picker func(it Item) (string, error)

// Stream picks name for every record.
func Stream(name string) Picker {
	return func(Item) (string, error) { return name, nil }
}

// firehoseSuffix is what follows the stream name in a Firehose object
// name: -<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>.
var firehoseSuffix = regexp.MustCompile(`^-\d+-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-`)

// StreamFromObjectName picks the stream from the name of the object a
// record was read from, which Firehose starts with the stream's name
// (<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>). known lists the
// streams to recognise.
func StreamFromObjectName(known []string) Picker {
	names := append([]string(nil), known...)
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) }) // longest first
	return func(it Item) (string, error) {
		base := it.Object[strings.LastIndexAny(it.Object, `/\`)+1:]
		for _, n := range names {
			if rest, ok := strings.CutPrefix(base, n); ok && firehoseSuffix.MatchString(rest) {
				return n, nil
			}
		}
		return "", fmt.Errorf("redrive: cannot tell the stream of %s from its name (known streams: %s); name it with -stream",
			it.Object, strings.Join(known, ", "))
	}
}
