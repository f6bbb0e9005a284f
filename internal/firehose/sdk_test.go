package firehose

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// scriptedFirehose is an HTTP server speaking Firehose's JSON protocol: it
// answers the n-th PutRecordBatch with script[n] and records what it got.
type scriptedFirehose struct {
	mu       sync.Mutex
	requests [][]string
	script   []func(w http.ResponseWriter, recs []string)
}

func (s *scriptedFirehose) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("X-Amz-Target") != "Firehose_20150804.PutRecordBatch" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	recs := make([]string, len(in.Records))
	for i, rec := range in.Records {
		recs[i] = string(rec.Data)
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, recs)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	s.script[min(n, len(s.script)-1)](w, recs)
}

func answer(failed map[int]string) func(http.ResponseWriter, []string) {
	return func(w http.ResponseWriter, recs []string) {
		type entry struct {
			RecordId     string `json:",omitempty"`
			ErrorCode    string `json:",omitempty"`
			ErrorMessage string `json:",omitempty"`
		}
		out := struct {
			FailedPutCount   int
			RequestResponses []entry
		}{FailedPutCount: len(failed)}
		for i := range recs {
			if code, ok := failed[i]; ok {
				out.RequestResponses = append(out.RequestResponses, entry{ErrorCode: code, ErrorMessage: "refused"})
			} else {
				out.RequestResponses = append(out.RequestResponses, entry{RecordId: "id"})
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	}
}

func apiFailure(status int, code string) func(http.ResponseWriter, []string) {
	return func(w http.ResponseWriter, _ []string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": "scripted " + code})
	}
}

// sdkClient is the real Firehose client pointed at url, without the SDK's
// own retries so that each attempt of the producer is one request.
func sdkClient(url string) *firehose.Client {
	return firehose.New(firehose.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// TestRealClientErrors runs the SDK's own request encoding and error
// decoding against the producer's retry decisions.
func TestRealClientErrors(t *testing.T) {
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name     string
		script   []func(http.ResponseWriter, []string)
		wantReqs [][]string
		wantErr  any // nil: success
	}{
		{
			name: "throttled call, then a partial failure, then the rest",
			script: []func(http.ResponseWriter, []string){
				apiFailure(400, "ServiceUnavailableException"),
				answer(map[int]string{1: "ServiceUnavailableException"}),
				answer(nil),
			},
			wantReqs: [][]string{abc, abc, {"b"}},
		},
		{
			name:     "503 is retried",
			script:   []func(http.ResponseWriter, []string){apiFailure(503, "InternalFailure"), answer(nil)},
			wantReqs: [][]string{abc, abc},
		},
		{
			name:     "missing stream is not retried",
			script:   []func(http.ResponseWriter, []string){apiFailure(400, "ResourceNotFoundException")},
			wantReqs: [][]string{abc},
			wantErr:  new(*types.ResourceNotFoundException),
		},
		{
			name:     "invalid argument is not retried",
			script:   []func(http.ResponseWriter, []string){apiFailure(400, "InvalidArgumentException")},
			wantReqs: [][]string{abc},
			wantErr:  new(*types.InvalidArgumentException),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scriptedFirehose{script: tt.script}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			p, err := New(sdkClient(ts.URL), Options{Stream: stream}, WithClock(&fakeClock{}), WithRand(func() float64 { return 0 }))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range abc {
				addAll(t, p, []byte(r))
			}
			err = p.Flush(context.Background())
			if tt.wantErr == nil && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != nil {
				var pe *PutError
				if !errors.As(err, tt.wantErr) || !errors.As(err, &pe) || len(pe.Unacked) != 3 {
					t.Fatalf("Flush = %v, want %T with 3 unacknowledged", err, tt.wantErr)
				}
			}
			if !slices.EqualFunc(srv.requests, tt.wantReqs, slices.Equal) {
				t.Errorf("requests = %q, want %q", srv.requests, tt.wantReqs)
			}
		})
	}
}
