package splitter

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/envelope"
)

// A forked route offers every record to each branch: a branch's where
// keeps records out of its stream (counted), ids name the stream, and a
// line that cannot be parsed is dead-lettered once, for every branch.
func TestForkSendsEachRecordToEveryAdmittingBranch(t *testing.T) {
	r := newRig(t, nil)
	data := "line-0\nline-1\nBAD x\nline-2\nline-3\nline-4\n"
	o := r.s3.add("b", "forks/a.txt", []byte(data), "", "e")
	res, err := r.h.Split(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	events, other := delivered(t, r.fh, "events"), delivered(t, r.fh, "other")
	if len(events) != 3 || len(other) != 5 {
		t.Fatalf("events %d, other %d records; want 3 (even lines) and 5", len(events), len(other))
	}
	if res.Sent != 8 || res.DeadLettered != 1 || res.Filtered["events"] != 2 || res.Filtered["other"] != 0 {
		t.Fatalf("result %+v: want 8 sent, 1 dead letter, 2 filtered from events", res)
	}
	// Per branch: the records parsed = sent to it + kept out by its where.
	parsed := int64(5)
	if int64(len(events))+res.Filtered["events"] != parsed || int64(len(other))+res.Filtered["other"] != parsed {
		t.Fatalf("a branch lost records: %d+%d, %d+%d of %d", len(events), res.Filtered["events"], len(other), res.Filtered["other"], parsed)
	}
	for _, d := range events {
		if !strings.HasSuffix(d.ID, ":events") || d.Schema != "listing" {
			t.Errorf("events record %s has schema %q; want the route's schema and an id ending :events", d.ID, d.Schema)
		}
	}
	for i, d := range other {
		idx := int64(i)
		if i >= 2 {
			idx++ // the dead-lettered line keeps its index
		}
		if want := envelope.BranchRecordID("b", "forks/a.txt", "", "e", idx, "other"); d.ID != want || d.Schema != "page_view" {
			t.Errorf("other record %d: id %s schema %q; want %s, page_view", i, d.ID, d.Schema, want)
		}
	}
	if got, dropped := r.metric("Filtered", ""), r.metric("Dropped", ""); got != 2 || dropped != 2 {
		t.Errorf("Filtered metric = %v, Dropped = %v; want 2 each", got, dropped)
	}
}

// A fork that stops half-way through a record's branches resumes at that
// record: no branch misses it (the redelivered branch has the same id).
func TestForkResumesAtAPartlySentRecord(t *testing.T) {
	r := newRig(t, nil)
	r.sink.MaxAttempts = 2
	r.fh.failAfter = 700
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, "line-%d\n", i)
	}
	o := r.s3.add("b", "forks/big.txt", []byte(b.String()), "", "e")
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err == nil {
		t.Fatal("want a systemic error while Firehose is down")
	}
	r.fh.failAfter = 0
	if _, err := r.h.Handle(context.Background(), s3EventFor(o)); err != nil {
		t.Fatal(err)
	}
	for stream, want := range map[string]int{"events": 1000, "other": 2000} {
		ids := map[string]bool{}
		for _, rec := range r.fh.records(stream) {
			ids[strings.SplitN(string(rec), `"`, 7)[5]] = true
		}
		if len(ids) != want {
			t.Errorf("%s has %d distinct records after the resume, want %d", stream, len(ids), want)
		}
	}
}
