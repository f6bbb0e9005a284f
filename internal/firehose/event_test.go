package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func sampleEvent() events.KinesisFirehoseEvent {
	return events.KinesisFirehoseEvent{
		InvocationID:      "inv-1",
		DeliveryStreamArn: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/listings",
		Region:            "eu-west-1",
		Records: []events.KinesisFirehoseEventRecord{
			{RecordID: "a", ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714557600123).UTC()}, Data: []byte(`{"x":"ü\n"}`)},
			{RecordID: "b", ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714557600124).UTC()}, Data: []byte{}},
			{RecordID: "c", Data: []byte{0, 255, 10},
				KinesisFirehoseRecordMetadata: events.KinesisFirehoseRecordMetadata{ShardID: "shardId-0", PartitionKey: "pk", SequenceNumber: "123", SubsequenceNumber: 2,
					ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1714557600000).UTC()}}},
		},
	}
}

// The fast path must read exactly what encoding/json reads.
func TestDecodeEventMatchesEncodingJSON(t *testing.T) {
	ev := sampleEvent()
	payload, _ := json.Marshal(ev)
	for name, in := range map[string][]byte{
		"aws-lambda-go shape": payload,
		"direct put shape": []byte(`{"invocationId":"inv-1","deliveryStreamArn":"arn:x/s","region":"eu-west-1","records":[` +
			`{"recordId":"a","approximateArrivalTimestamp":1714557600123,"data":"` + base64.StdEncoding.EncodeToString([]byte("hi")) + `"}]}`),
		"escaped slash": []byte(`{"invocationId":"i","deliveryStreamArn":"arn:aws:firehose:r:1:deliverystream\/s","records":[{"recordId":"a","data":"aGk="}]}`),
		"unknown keys":  []byte(`{"future":{"a":[1,2]},"records":[{"recordId":"a","data":"","later":true}]}`),
	} {
		t.Run(name, func(t *testing.T) {
			var fast, slow events.KinesisFirehoseEvent
			if err := DecodeEvent(in, &fast); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(in, &slow); err != nil {
				t.Fatal(err)
			}
			sameFields(&slow)
			a, _ := json.Marshal(fast)
			b, _ := json.Marshal(slow)
			if string(a) != string(b) {
				t.Fatalf("fast path read\n%+v\nencoding/json read\n%+v", fast, slow)
			}
		})
	}
	var ev2 events.KinesisFirehoseEvent
	if err := DecodeEvent([]byte(`{"records":[{"data":"!!!"}]}`), &ev2); err == nil {
		t.Fatal("invalid base64 accepted")
	}
}

func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	resp := Response{Records: []ResponseRecord{
		{RecordID: "a", Result: Ok, Data: []byte("{\"x\":1}\n")},
		{RecordID: "b", Result: Dropped, Data: []byte{}},
		{RecordID: "c", Result: ProcessingFailed, Data: []byte{}},
		{RecordID: "d", Result: Ok, Data: []byte("x\n"), Metadata: &Metadata{PartitionKeys: map[string]string{"schema": "listing", "day": "2024-05-01"}}},
	}}
	want, _ := json.Marshal(resp)
	if got := AppendResponse(nil, &resp); string(got) != string(want) {
		t.Fatalf("AppendResponse wrote\n%s\nencoding/json writes\n%s", got, want)
	}
	if n := ResponseSize(&resp); n != len(want) {
		t.Fatalf("ResponseSize = %d, the response is %d bytes", n, len(want))
	}
}

// sameFields keeps only what a Batch holds (no Kinesis-source metadata) and
// reads absent data as empty, as DecodeEvent does.
func sameFields(ev *events.KinesisFirehoseEvent) {
	ev.SourceKinesisStreamArn = ""
	for i := range ev.Records {
		ev.Records[i].KinesisFirehoseRecordMetadata = events.KinesisFirehoseRecordMetadata{}
		if ev.Records[i].Data == nil {
			ev.Records[i].Data = []byte{}
		}
	}
}

// Whatever encoding/json reads, DecodeBatch reads the same. DecodeBatch
// accepts more (a fractional arrival time) and fails only a bad record, not
// the batch: it fails as a whole only where encoding/json fails too.
func FuzzDecodeEvent(f *testing.F) {
	payload, _ := json.Marshal(sampleEvent())
	f.Add(payload)
	f.Add([]byte(`{"records":[{"recordId":"a","data":"aGk=","approximateArrivalTimestamp":1.5e12}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a\u0062","data":"aGk=","kinesisRecordMetadata":{"shardId":"s"}},{"recordId":"c","data":"!!!!"}]}`))
	// Records as Firehose writes them (compactRecord), one with an id that
	// is not ASCII, and each way out of that reading: a leading zero, a
	// negative or fractional time, a partial group, a key after the data,
	// an escaped id.
	f.Add([]byte(`{"invocationId":"i","records":[{"recordId":"49546986683135544286507457936321625675700788","approximateArrivalTimestamp":1714557600123,"data":"aGk="},{"recordId":"b","approximateArrivalTimestamp":0,"data":""}]}`))
	f.Add([]byte(`{"records":[{"recordId":"é","approximateArrivalTimestamp":1,"data":"aGk="},{"recordId":"c","approximateArrivalTimestamp":01,"data":"aGk="}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","approximateArrivalTimestamp":-1,"data":"aGk="},{"recordId":"b","approximateArrivalTimestamp":1.5,"data":"aGk"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","approximateArrivalTimestamp":1,"data":"aGk=","recordId":"b"}, {"recordId":"a\"b","approximateArrivalTimestamp":1,"data":"aGk="}]}`))
	var reused Batch
	f.Fuzz(func(t *testing.T, in []byte) {
		var fast, slow events.KinesisFirehoseEvent
		fresh, errBatch := DecodeBatch(in)
		// A batch that read other events before reads this one the same.
		if err := reused.Decode(payload); err != nil {
			t.Fatal(err)
		}
		reused.Release()
		if errReused := reused.Decode(in); (errReused == nil) != (errBatch == nil) {
			t.Fatalf("Decode into a reused batch: %v; into a new one: %v", errReused, errBatch)
		} else if errBatch == nil {
			if got, want := batchText(&reused), batchText(fresh); got != want {
				t.Fatalf("Decode into a reused batch read\n%s\ninto a new one\n%s", got, want)
			}
			reused.Release()
		}
		errFast := DecodeEvent(in, &fast)
		errSlow := json.Unmarshal(in, &slow)
		if errBatch != nil && errSlow == nil {
			t.Fatalf("DecodeBatch failed (%v) on an event encoding/json reads", errBatch)
		}
		if errSlow != nil {
			return
		}
		if errFast != nil {
			t.Fatalf("DecodeEvent error %v on an event encoding/json reads", errFast)
		}
		sameFields(&slow)
		if len(fast.Records) == 0 && len(slow.Records) == 0 {
			fast.Records, slow.Records = nil, nil
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if string(a) != string(b) {
			t.Fatalf("DecodeBatch read\n%s\nencoding/json read\n%s", a, b)
		}
	})
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(""), []byte("x"))
	f.Add([]byte("prefix"), []byte("a longer record of data, {\"json\":true}\n"))
	f.Fuzz(func(t *testing.T, prefix, src []byte) {
		want := append(append([]byte(nil), prefix...), base64.StdEncoding.EncodeToString(src)...)
		if got := appendBase64(append([]byte(nil), prefix...), src); string(got) != string(want) {
			t.Fatalf("appendBase64(%q) = %q, want %q", src, got, want)
		}
	})
}

func TestAppendBase64EveryLength(t *testing.T) {
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 37)
	}
	for n := 0; n <= len(src); n++ {
		if got, want := string(appendBase64(nil, src[:n])), base64.StdEncoding.EncodeToString(src[:n]); got != want {
			t.Fatalf("length %d: %q, want %q", n, got, want)
		}
	}
}

// TestDecodeBase64EveryLength holds decodeBase64 to encoding/base64 at
// every length around the fast loop's steps, valid and with a character
// outside the alphabet (or a newline, which the standard decoder skips)
// at every position: the same bytes, the same error at the same offset.
func TestDecodeBase64EveryLength(t *testing.T) {
	data := make([]byte, 80)
	for i := range data {
		data[i] = byte(i*53 + 7)
	}
	check := func(src []byte) {
		t.Helper()
		want := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
		wn, werr := base64.StdEncoding.Decode(want, src)
		got := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
		gn, gerr := decodeBase64(got, src)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || string(got[:gn]) != string(want[:wn]) {
			t.Fatalf("decodeBase64(%q) = %q, %v; encoding/base64: %q, %v", src, got[:gn], gerr, want[:wn], werr)
		}
	}
	for n := 0; n <= len(data); n++ {
		enc := []byte(base64.StdEncoding.EncodeToString(data[:n]))
		check(enc)
		for i := range enc {
			for _, bad := range []byte{'!', '\n', '=', 0x80} {
				src := bytes.Clone(enc)
				src[i] = bad
				check(src)
			}
		}
	}
}

func FuzzDecodeBase64(f *testing.F) {
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte("a record of data, long enough for a few groups"))))
	f.Add([]byte("aGk="))
	f.Add([]byte("aGVsbG8gd29ybGQh!!!!"))
	f.Fuzz(func(t *testing.T, src []byte) {
		want := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
		wn, werr := base64.StdEncoding.Decode(want, src)
		got := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
		gn, gerr := decodeBase64(got, src)
		if (werr == nil) != (gerr == nil) || (werr == nil && string(got[:gn]) != string(want[:wn])) {
			t.Fatalf("decodeBase64(%q) = %q, %v; encoding/base64: %q, %v", src, got[:gn], gerr, want[:wn], werr)
		}
		if werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("decodeBase64(%q) error %v; encoding/base64: %v", src, gerr, werr)
		}
	})
}

// DecodeEvent reads a transformation event through DecodeBatch into
// aws-lambda-go's type, so tests can compare it with encoding/json.
func DecodeEvent(payload []byte, ev *events.KinesisFirehoseEvent) error {
	b, err := DecodeBatch(payload)
	if err != nil {
		return err
	}
	// The event may outlive payload: copy what the batch aliases.
	*ev = events.KinesisFirehoseEvent{InvocationID: strings.Clone(b.InvocationID), DeliveryStreamArn: strings.Clone(b.DeliveryStreamArn),
		Region: strings.Clone(b.Region), Records: make([]events.KinesisFirehoseEventRecord, b.Len())}
	for i := range ev.Records {
		data, err := b.Data(i, nil)
		if err != nil {
			return err
		}
		if data == nil {
			data = []byte{}
		}
		ev.Records[i] = events.KinesisFirehoseEventRecord{RecordID: strings.Clone(b.IDs[i]),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: b.Arrivals[i]}, Data: data}
	}
	return nil
}

// batchText writes out everything a batch says: each record's id,
// arrival and data or the reason it cannot be read.
func batchText(b *Batch) string {
	s := fmt.Sprintf("%q %q %q %d inPayload=%v\n", b.InvocationID, b.DeliveryStreamArn, b.Region, b.Len(), b.DecodesIntoBuf())
	for i := range b.Len() {
		data, err := b.Data(i, nil)
		s += fmt.Sprintf("%q %s %q %v\n", b.IDs[i], b.Arrivals[i].Format(time.RFC3339Nano), data, err)
	}
	return s
}

// TestBatchDecodeReusesMemory: Decode into a batch that read a larger
// event reads the next in the same memory, by either path, and reads
// it as a new batch does; Release keeps no part of the payload.
func TestBatchDecodeReusesMemory(t *testing.T) {
	// Records as Firehose writes them, which the fast path reads.
	event := func(n int) []byte {
		s := `{"invocationId":"inv","region":"eu-west-1","records":[`
		for i := range n {
			if i > 0 {
				s += ","
			}
			s += fmt.Sprintf(`{"recordId":"r%d","approximateArrivalTimestamp":%d,"data":"%s"}`, i, 1714557600000+i, base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("record ", i))))
		}
		return []byte(s + "]}")
	}
	bigPayload, small := event(200), event(3)
	// Escaped ids take encoding/json's path.
	lenient := []byte(`{"records":[{"recordId":"a\u0062","data":"aGk="},{"recordId":"c","data":"!!!!"}]}`)
	var b Batch
	for _, next := range [][]byte{small, lenient, small} {
		if err := b.Decode(bigPayload); err != nil {
			t.Fatal(err)
		}
		ids := &b.IDs[0]
		b.Release()
		if err := b.Decode(next); err != nil {
			t.Fatal(err)
		}
		want, err := DecodeBatch(next)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := batchText(&b), batchText(want); got != want {
			t.Fatalf("reused batch read\n%s\na new one\n%s", got, want)
		}
		if !bytes.Equal(next, lenient) && &b.IDs[0] != ids {
			t.Error("Decode did not reuse the batch's memory")
		}
		b.Release()
		for i := range b.IDs[:cap(b.IDs)] {
			if b.IDs[:cap(b.IDs)][i] != "" || b.b64[:cap(b.b64)][i] != nil {
				t.Fatalf("released batch still holds record %d", i)
			}
		}
	}
}

// TestBatchResetReusesAndReleaseLetsGo: a Batch reset to a smaller event
// holds exactly that event, in the memory the larger one had; Release
// keeps no string or data of the event.
func TestBatchResetReusesAndReleaseLetsGo(t *testing.T) {
	big := sampleEvent()
	for range 5 {
		big.Records = append(big.Records, big.Records...)
	}
	var b Batch
	b.Reset(big)
	ids := &b.IDs[0]
	b.Release()
	small := sampleEvent()
	b.Reset(small)
	if &b.IDs[0] != ids {
		t.Error("Reset did not reuse the batch's memory")
	}
	if b.Len() != len(small.Records) || b.InvocationID != small.InvocationID {
		t.Fatalf("batch of %d records, invocation %q; want %d, %q", b.Len(), b.InvocationID, len(small.Records), small.InvocationID)
	}
	for i, r := range small.Records {
		data, err := b.Data(i, nil)
		if err != nil || b.IDs[i] != r.RecordID || !b.Arrivals[i].Equal(r.ApproximateArrivalTimestamp.Time) || !bytes.Equal(data, r.Data) {
			t.Fatalf("record %d: %q %v %q %v; want %q %v %q", i, b.IDs[i], b.Arrivals[i], data, err, r.RecordID, r.ApproximateArrivalTimestamp.Time, r.Data)
		}
	}
	b.Release()
	if b.Len() != 0 || b.InvocationID != "" {
		t.Fatalf("released batch has %d records, invocation %q", b.Len(), b.InvocationID)
	}
	for i, id := range b.IDs[:cap(b.IDs)] {
		if id != "" || b.data[:cap(b.data)][i] != nil {
			t.Fatalf("released batch still holds record %d", i)
		}
	}
}
