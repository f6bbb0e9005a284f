package chaos

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Ledger records, by record id, what became of each record: sent by the
// splitter (accepted by Firehose), dropped by the transform, and, read
// back from the output folder, delivered, failed or dead-lettered.
type Ledger struct {
	mu      sync.Mutex
	records map[string]*entry
}

type entry struct {
	sent                                 bool
	dropped, failed, deadLettered, sends int32
	docs                                 []uint64 // hash of each delivered copy
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger { return &Ledger{records: map[string]*entry{}} }

func (l *Ledger) get(id string) *entry {
	e := l.records[id]
	if e == nil {
		e = &entry{}
		l.records[id] = e
	}
	return e
}

// sent records the envelope ids in one Firehose record's data (one
// envelope, or several packed one per line).
func (l *Ledger) sent(data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	forEachLine(data, func(line []byte) {
		if id := envelopeID(line); id != "" {
			e := l.get(id)
			e.sent = true
			e.sends++
		}
	})
}

// Sent records an envelope put by a producer the Injector does not wrap.
func (l *Ledger) Sent(data []byte) { l.sent(data) }

func (l *Ledger) dropped(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.get(id).dropped++
	}
}

// envelopeID reads the id of an envelope line ({"v":1,"id":"…",…}).
func envelopeID(line []byte) string {
	var env struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &env) != nil {
		return ""
	}
	return env.ID
}

func forEachLine(data []byte, f func([]byte)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) > 0 {
			f(line)
		}
	}
}

// outputLine is any line sluice writes into the output folder: a delivered
// document (provenance), a Firehose processing-failed record (rawData holds
// the envelopes) or a splitter dead letter (recordId).
type outputLine struct {
	Provenance *struct {
		RecordID string `json:"record_id"`
	} `json:"provenance"`
	ErrorCode string `json:"errorCode"`
	RawData   []byte `json:"rawData"`
	RecordID  string `json:"recordId"`
}

// ReadOutput reads every object under dir (as sluice run writes it) into
// the ledger.
func (l *Ledger) ReadOutput(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Dir(path) == filepath.Clean(dir) && strings.HasPrefix(d.Name(), "report.") {
			return nil // sluice run's report, not output
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 8<<20)
		for sc.Scan() {
			if err := l.readLine(sc.Bytes()); err != nil {
				return fmt.Errorf("chaos: %s: %w", path, err)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("chaos: %s: %w", path, err)
		}
		return nil
	})
}

func (l *Ledger) readLine(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	var o outputLine
	if err := json.Unmarshal(line, &o); err != nil {
		return fmt.Errorf("a line that is not JSON: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case o.ErrorCode != "" && o.RecordID != "":
		l.get(o.RecordID).deadLettered++
	case o.ErrorCode != "":
		var ids int
		forEachLine(o.RawData, func(env []byte) {
			if id := envelopeID(env); id != "" {
				l.get(id).failed++
				ids++
			}
		})
		if ids == 0 && len(o.RawData) > 0 {
			return fmt.Errorf("a %s record whose rawData carries no record id", o.ErrorCode)
		}
	case o.Provenance != nil && o.Provenance.RecordID != "":
		h := fnv.New64a()
		h.Write(withoutIngestedAt(line))
		e := l.get(o.Provenance.RecordID)
		e.docs = append(e.docs, h.Sum64())
	default:
		return fmt.Errorf("a line with no record id (neither provenance.record_id, recordId nor envelopes in rawData)")
	}
	return nil
}

// withoutIngestedAt blanks the document's provenance.ingested_at: when
// that copy was read. Two copies of a record (an object split twice, by a
// duplicate event or a retried invocation) differ in nothing else.
func withoutIngestedAt(doc []byte) []byte {
	key := []byte(`"ingested_at":"`)
	i := bytes.LastIndex(doc, key)
	if i < 0 {
		return doc
	}
	start := i + len(key)
	end := bytes.IndexByte(doc[start:], '"')
	if end < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc))
	out = append(out, doc[:start]...)
	return append(out, doc[start+end:]...)
}

// Report is the conservation check by record id.
type Report struct {
	IDs                                    int // distinct ids seen
	Delivered, Dropped, Failed, DeadLetter int // ids by where they ended
	// Duplicates counts the ids delivered more than once, every copy the
	// same document (but for provenance.ingested_at, when the copy was
	// read): the documented at-least-once duplicates.
	Duplicates int
	// Lost are ids sent that never ended anywhere; Conflicting ids
	// delivered more than once with different documents; Unknown ids that
	// ended somewhere without the splitter having sent them.
	Lost, Conflicting, Unknown []string
}

// Conserved reports whether every id is accounted for.
func (r Report) Conserved() bool {
	return len(r.Lost) == 0 && len(r.Conflicting) == 0 && len(r.Unknown) == 0
}

// Check compares what was sent with where it ended.
func (l *Ledger) Check() Report {
	l.mu.Lock()
	defer l.mu.Unlock()
	var r Report
	r.IDs = len(l.records)
	for id, e := range l.records {
		// Each id is counted at its end: delivered, else failed, else
		// dead-lettered, else dropped. A record the transform answered
		// Dropped and re-ingested (an overflow, a packed record's failed
		// part) ends where its re-ingested copy does.
		ended := true
		switch {
		case len(e.docs) > 0:
			r.Delivered++
			if len(e.docs) > 1 {
				same := true
				for _, d := range e.docs[1:] {
					same = same && d == e.docs[0]
				}
				if same {
					r.Duplicates++
				} else {
					r.Conflicting = append(r.Conflicting, id)
				}
			}
		case e.failed > 0:
			r.Failed++
		case e.deadLettered > 0:
			r.DeadLetter++
		case e.dropped > 0:
			r.Dropped++
		default:
			ended = false
		}
		switch {
		case e.sent && !ended:
			r.Lost = append(r.Lost, id)
		case !e.sent && e.deadLettered == 0:
			// Dead letters come from the splitter itself: never sent.
			r.Unknown = append(r.Unknown, id)
		}
	}
	sort.Strings(r.Lost)
	sort.Strings(r.Conflicting)
	sort.Strings(r.Unknown)
	return r
}

// Broken names the ids that break conservation, at most max of each kind.
func (r Report) Broken(max int) string {
	var b strings.Builder
	for _, k := range []struct {
		what string
		ids  []string
	}{
		{"lost (sent, never delivered, dropped, failed or dead-lettered)", r.Lost},
		{"delivered more than once with different documents", r.Conflicting},
		{"delivered or failed but never sent by the splitter", r.Unknown},
	} {
		if len(k.ids) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d %s: %s", len(k.ids), k.what, strings.Join(k.ids[:min(max, len(k.ids))], " "))
		if len(k.ids) > max {
			fmt.Fprintf(&b, " … and %d more", len(k.ids)-max)
		}
	}
	return b.String()
}

// Sends is how many times Firehose accepted the record with this id.
func (l *Ledger) Sends(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.records[id]; e != nil {
		return int(e.sends)
	}
	return 0
}

// IDs lists the ids the ledger knows, sorted.
func (l *Ledger) IDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.records))
	for id := range l.records {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Ends is where one record id ended, copies counted.
type Ends struct{ Delivered, Dropped, Failed, DeadLettered int }

// Ends reports where the record with this id ended.
func (l *Ledger) Ends(id string) Ends {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.records[id]
	if e == nil {
		return Ends{}
	}
	return Ends{len(e.docs), int(e.dropped), int(e.failed), int(e.deadLettered)}
}
