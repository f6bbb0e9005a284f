package deadletter

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// BenchmarkReader reads Firehose-shaped error records of ~1 KiB of data.
func BenchmarkReader(b *testing.B) {
	var in []byte
	for range 1000 {
		line, _ := Marshal(&Record{AttemptsMade: 1, ArrivalTimestamp: 1732270200123, ErrorCode: "Lambda.ProcessingFailedStatus",
			ErrorMessage: "ProcessingFailed status set for record", AttemptEndingTimestamp: 1732270262456,
			RawData: bytes.Repeat([]byte(`{"k":"v"}`), 110), LambdaArn: testARN})
		in = append(in, line...)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		r := NewReader(bytes.NewReader(in))
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
