package splitter

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestRedisCluster runs the checkpoint store and whole splitter runs
// against a real 3-node Redis Cluster, which refuses what miniredis lets
// pass: a multi-key command across slots (CROSSSLOT), a key on another node
// (MOVED), a database number (SELECT).
func TestRedisCluster(t *testing.T) {
	url := testenv.RedisCluster(t).URL()
	store := NewRedisStore(redisAt(t, url+patient), time.Minute)

	t.Run("store", func(t *testing.T) { testStore(t, store) })

	t.Run("continuations", func(t *testing.T) { testDeadlineContinuation(t, store) })

	t.Run("objects over SQS", func(t *testing.T) {
		// Enough objects for their checkpoints to land on every node.
		r := newRig(t, store)
		var bodies []json.RawMessage
		run := time.Now().UnixNano()
		want := 0
		for i := range 12 {
			o := r.s3.add("b", fmt.Sprintf("listings/%d/%d.txt", run, i), numbered(100+i), "", fmt.Sprint("e", i))
			bodies = append(bodies, s3EventFor(o))
			want += 100 + i
		}
		ev := sqsEventFor(bodies...)
		for round := range 2 { // the second is SQS redelivering every message
			out, err := r.h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if f := out.(events.SQSEventResponse).BatchItemFailures; len(f) != 0 {
				t.Fatalf("round %d: batch item failures %v", round, f)
			}
			if got := len(delivered(t, r.fh, "events")); got != want {
				t.Fatalf("round %d: %d records delivered, want %d, each once", round, got, want)
			}
		}
	})
}
