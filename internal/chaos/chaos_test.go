package chaos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsfirehose "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/sluicehq/sluice/internal/chaos"
	"github.com/sluicehq/sluice/internal/config"
	sfirehose "github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localrun"
)

var _ localrun.Faults = (*chaos.Injector)(nil)

// writeInput writes objects of webhook events (one in every 50 lines is
// not JSON, one in every 40 is dropped... no: every line is a record or a
// dead letter) under dir/webhooks/, and returns how many lines it wrote.
func writeInput(t testing.TB, dir string, objects, lines int) int {
	t.Helper()
	n := 0
	for o := range objects {
		var b strings.Builder
		for i := range lines {
			n++
			if i%50 == 7 {
				b.WriteString("not json at all\n")
				continue
			}
			fmt.Fprintf(&b, `{"id":"evt_%d_%d","type":"payment.succeeded","created_at":"2024-05-01T10:00:00Z","amount":"%d.50","status":"succeeded"}`+"\n", o, i, i)
		}
		p := filepath.Join(dir, "webhooks", fmt.Sprintf("2024-05-01/batch-%03d.jsonl", o))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func shipped(t testing.TB) localrun.Options {
	t.Helper()
	cfg, reg, err := config.LoadAll("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return localrun.Options{Config: cfg, Registry: reg}
}

func runWith(t testing.TB, faults localrun.Faults, inputs ...string) (localrun.Summary, string) {
	t.Helper()
	opts := shipped(t)
	opts.Inputs, opts.Out, opts.Faults = inputs, t.TempDir(), faults
	sum, err := localrun.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum, opts.Out
}

// Under every fault, at a high rate, every record id the splitter sent
// ends delivered, dropped, failed or dead-lettered; duplicates carry the
// same id and the same document.
func TestConservationUnderFaults(t *testing.T) {
	in := t.TempDir()
	lines := writeInput(t, in, 12, 400)
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			inj := chaos.New(seed, 0.2)
			sum, out := runWith(t, inj, in, "../../examples/input", "../../examples/broken")
			if err := inj.Ledger().ReadOutput(out); err != nil {
				t.Fatal(err)
			}
			rep := inj.Ledger().Check()
			if !rep.Conserved() {
				t.Fatalf("conservation broken: %s", rep.Broken(10))
			}
			if inj.Total() == 0 || rep.IDs < lines {
				t.Fatalf("%d faults over %d ids (%d lines written): the run did not exercise the faults", inj.Total(), rep.IDs, lines)
			}
			if sum.DeadLettered == 0 || rep.DeadLetter == 0 || rep.Dropped == 0 {
				t.Fatalf("expected dead letters and drops: %+v %+v", sum, rep)
			}
			t.Logf("faults %v; %+v", inj.Counts(), rep)
		})
	}
}

// lost is what the broken pipeline lost: the first call any split worker
// made, acknowledged and never passed on (the bug -chaos is there to
// catch).
type lost struct {
	mu  sync.Mutex
	ids []string
}

// lossy is one split worker's client in the broken pipeline.
type lossy struct {
	next sfirehose.PutRecordBatchAPI
	lost *lost
}

func (l *lossy) PutRecordBatch(ctx context.Context, in *awsfirehose.PutRecordBatchInput, opts ...func(*awsfirehose.Options)) (*awsfirehose.PutRecordBatchOutput, error) {
	l.lost.mu.Lock()
	first := l.lost.ids == nil
	if first {
		for _, r := range in.Records {
			for _, line := range strings.Split(strings.TrimSpace(string(r.Data)), "\n") {
				var env struct{ ID string }
				_ = json.Unmarshal([]byte(line), &env) // an id-less line fails the comparison
				l.lost.ids = append(l.lost.ids, env.ID)
			}
		}
	}
	l.lost.mu.Unlock()
	if !first {
		return l.next.PutRecordBatch(ctx, in, opts...)
	}
	out := &awsfirehose.PutRecordBatchOutput{FailedPutCount: aws.Int32(0), RequestResponses: make([]types.PutRecordBatchResponseEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = aws.String("x")
	}
	return out, nil
}

type brokenPipeline struct {
	*chaos.Injector
	lost *lost
}

func (b brokenPipeline) Firehose(next sfirehose.PutRecordBatchAPI) sfirehose.PutRecordBatchAPI {
	return b.Injector.Firehose(&lossy{next: next, lost: b.lost})
}

func TestBrokenPipelineIsCaughtAndNamed(t *testing.T) {
	inj := chaos.New(1, 0)
	broken := &lost{}
	_, out := runWith(t, brokenPipeline{Injector: inj, lost: broken}, "../../examples/input")
	if err := inj.Ledger().ReadOutput(out); err != nil {
		t.Fatal(err)
	}
	rep := inj.Ledger().Check()
	sort.Strings(broken.ids)
	if rep.Conserved() || len(broken.ids) == 0 || !slices.Equal(rep.Lost, broken.ids) {
		t.Fatalf("records %v were dropped on purpose; the check found lost %v", broken.ids, rep.Lost)
	}
}

// The same seed draws the same faults, however the split workers and
// the transform's invocations interleave.
func TestSameSeedSameFaults(t *testing.T) {
	in := t.TempDir()
	writeInput(t, in, 8, 300)
	run := func() ([]chaos.Count, chaos.Report) {
		inj := chaos.New(42, 0.3).Only(chaos.PutPartial, chaos.PutThrottled, chaos.PutTimeoutAccepted,
			chaos.InvokeError, chaos.InvokeTimeout, chaos.ReadInterrupted, chaos.EventReordered)
		_, out := runWith(t, inj, in)
		if err := inj.Ledger().ReadOutput(out); err != nil {
			t.Fatal(err)
		}
		return inj.Counts(), inj.Ledger().Check()
	}
	c1, r1 := run()
	c2, r2 := run()
	if !slices.Equal(c1, c2) || r1.Delivered != r2.Delivered || r1.Failed != r2.Failed || r1.Duplicates != r2.Duplicates {
		t.Fatalf("seed 42 drew\n%v %+v\nthen\n%v %+v", c1, r1, c2, r2)
	}
	if len(c1) == 0 {
		t.Fatal("no fault drawn")
	}
}
