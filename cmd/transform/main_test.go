package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluicehq/sluice/internal/app"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/transform"
)

// TestLambdaAnswersEachEventRight runs the transform Lambda as built, with
// aws-lambda-go's own invoke loop, against a local Lambda runtime API that
// hands out events of different sizes one after another. The binary writes
// each response into the last one's memory (it runs one invocation at a
// time), so every response it posts must still be the one its event asks
// for: the same bytes a handler without reuse answers.
func TestLambdaAnswersEachEventRight(t *testing.T) {
	config, err := filepath.Abs("../../sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true", "SLUICE_CONFIG": config,
		"AWS_LAMBDA_FUNCTION_NAME": "sluice-transform", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
	}
	var failing []string
	for i := range 3 {
		failing = append(failing, fmt.Sprintf(`{"v":1,"id":"bad-%d","schema":"listing","fields":{"Shop Name":"S","price":"twelve"}}`, i))
	}
	var payloads [][]byte
	for _, n := range []int{400, 3, 250, 1} {
		records := listings(n)
		if n == 250 {
			records = append(records, failing...)
		}
		payloads = append(payloads, eventPayload(t, records))
	}

	// What a handler that does not reuse its responses answers.
	for k, v := range env {
		t.Setenv(k, v)
	}
	plain, err := app.NewTransform(context.Background(), config, transform.WithMetrics(metrics.New(io.Discard)),
		transform.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, p := range payloads {
		out, err := plain.Invoke(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, bytes.Clone(out))
	}

	bin := filepath.Join(t.TempDir(), "transform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	var mu sync.Mutex
	next := 0
	got := make([][]byte, len(payloads))
	done := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/runtime/invocation/next"):
			mu.Lock()
			i := next
			next++
			mu.Unlock()
			if i >= len(payloads) {
				<-r.Context().Done() // no more events
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", fmt.Sprint(i))
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:sluice-transform")
			_, _ = w.Write(payloads[i])
		case strings.HasSuffix(r.URL.Path, "/response"):
			var i int
			if _, err := fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/2018-06-01/runtime/invocation/"), "%d/response", &i); err != nil || i >= len(got) {
				t.Errorf("response to an unknown request: %s", r.URL.Path)
				return
			}
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			mu.Lock()
			got[i] = body
			answered := 0
			for _, g := range got {
				if g != nil {
					answered++
				}
			}
			mu.Unlock()
			if answered == len(got) {
				close(done)
			}
		default:
			body, _ := io.ReadAll(r.Body)
			t.Errorf("unexpected call %s %s: %s", r.Method, r.URL.Path, body)
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer api.Close()

	c := exec.Command(bin)
	c.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://")}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the Lambda did not answer every event within a minute\n%s", stderr.String())
	}
	for i := range payloads {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("event %d: the Lambda posted %d bytes that differ from the %d a handler without reuse answers:\n%.300s\nwant\n%.300s", i, len(got[i]), len(want[i]), got[i], want[i])
		}
	}
}

// listings returns n listing envelopes.
func listings(n int) []string {
	out := make([]string, n)
	for i := range out {
		r := envelope.Record{ID: fmt.Sprintf("id-%d", i), Schema: "listing", Fields: []envelope.Field{
			{Name: "Shop Name", Value: fmt.Sprintf("Shop %d", i)}, {Name: "price", Value: fmt.Sprintf("%d.50", i)},
			{Name: "listed", Value: "2024-05-01"}, {Name: "url", Value: "https://example.com/" + strings.Repeat("x", i%200)},
		}}
		out[i] = string(envelope.Append(nil, &r))
	}
	return out
}

func eventPayload(t *testing.T, records []string) []byte {
	t.Helper()
	ev := events.KinesisFirehoseEvent{
		InvocationID:      "00000000-0000-4000-8000-000000000000",
		DeliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings",
		Region:            "eu-west-1",
	}
	for i, r := range records {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID:                    fmt.Sprintf("r%04d", i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714557600000 + int64(i)).UTC()},
			Data:                        []byte(r),
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
