package localfirehose

import (
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/internal/firehose"
)

// judgeByID is Firehose's response contract applied the general way,
// finding every record's answer by its id; judge must agree with it
// whether or not the answers come in the batch's order.
func judgeByID(batch []buffered, resp firehose.Response) ([]verdict, *failure) {
	if responseSize(resp) > MaxInvocationBytes {
		return nil, &failure{CodeFunctionError, msgFunctionError}
	}
	byID := make(map[string]int, len(resp.Records))
	for i, r := range resp.Records {
		switch r.Result {
		case firehose.Ok, firehose.Dropped, firehose.ProcessingFailed:
		default:
			return nil, &failure{CodeFunctionError, msgInvalidResponse}
		}
		if r.RecordID == "" || r.Data == nil {
			return nil, &failure{CodeFunctionError, msgInvalidResponse}
		}
		if _, dup := byID[r.RecordID]; dup {
			return nil, &failure{CodeDuplicatedID, msgDuplicatedID}
		}
		byID[r.RecordID] = i
	}
	out := make([]verdict, len(batch))
	for i, b := range batch {
		j, ok := byID[b.id]
		if !ok {
			out[i] = verdict{result: firehose.ProcessingFailed, fail: &failure{CodeMissingRecordID, msgMissingRecordID}}
			continue
		}
		r := resp.Records[j]
		v := verdict{result: r.Result, data: r.Data}
		if r.Metadata != nil {
			v.keys = r.Metadata.PartitionKeys
		}
		if r.Result == firehose.ProcessingFailed {
			v.fail = &failure{CodeProcessingFailed, msgProcessingFailed}
		}
		out[i] = v
	}
	return out, nil
}

// judgeCase builds a batch of unique ids, as the emulator cuts them, and
// a response from spec: its first byte is the batch's size (1 to 8) and
// whether the answers start in the batch's order; each following byte
// then changes one answer's id, result, data or partition keys, or drops
// or adds one.
func judgeCase(spec []byte) ([]buffered, firehose.Response) {
	if len(spec) == 0 {
		spec = []byte{0}
	}
	n := 1 + int(spec[0]&7)
	batch := make([]buffered, n)
	for i := range batch {
		batch[i] = buffered{id: recordIDOf(uint64(i + 1)), data: []byte{byte('a' + i)}}
	}
	var resp firehose.Response
	if spec[0]&8 == 0 {
		for _, b := range batch {
			resp.Records = append(resp.Records, firehose.ResponseRecord{RecordID: b.id, Result: firehose.Ok, Data: b.data})
		}
	}
	results := []string{firehose.Ok, firehose.Dropped, firehose.ProcessingFailed, "OK"}
	for k, c := range spec[1:] {
		at := int(c>>3) % (len(resp.Records) + 1)
		if at == len(resp.Records) {
			resp.Records = append(resp.Records, firehose.ResponseRecord{RecordID: batch[k%n].id, Result: firehose.Ok, Data: []byte{}})
		}
		r := &resp.Records[at]
		switch c & 7 {
		case 0:
			r.RecordID = batch[int(c>>3)%n].id // maybe another record's
		case 1:
			r.RecordID = ""
		case 2:
			r.RecordID = "not-a-record"
		case 3:
			r.Result = results[int(c>>3)%len(results)]
		case 4:
			r.Data = nil
		case 5:
			r.Metadata = &firehose.Metadata{PartitionKeys: map[string]string{"k": string(rune('a' + k))}}
		case 6:
			resp.Records = append(resp.Records[:at], resp.Records[at+1:]...)
		case 7:
			resp.Records[0], resp.Records[at] = resp.Records[at], resp.Records[0]
		}
	}
	return batch, resp
}

func sameJudgement(t *testing.T, spec []byte) {
	t.Helper()
	batch, resp := judgeCase(spec)
	// The verdicts' memory may be a delivered batch's, of any size.
	room := make([]verdict, len(spec)%11)
	for i := range room {
		room[i] = verdict{result: "stale", data: []byte("stale"), fail: failDuplicatedID}
	}
	got, gotWhole := judge(batch, resp, nil, room)
	want, wantWhole := judgeByID(batch, resp)
	if (gotWhole == nil) != (wantWhole == nil) || gotWhole != nil && *gotWhole != *wantWhole {
		t.Fatalf("spec %v: whole batch %+v, want %+v", spec, gotWhole, wantWhole)
	}
	if len(got) != len(want) {
		t.Fatalf("spec %v: %d verdicts, want %d", spec, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.result != w.result || string(g.data) != string(w.data) || (g.data == nil) != (w.data == nil) ||
			!reflect.DeepEqual(g.keys, w.keys) || (g.fail == nil) != (w.fail == nil) || g.fail != nil && *g.fail != *w.fail {
			t.Fatalf("spec %v: record %d: %+v, want %+v", spec, i, g, w)
		}
	}
}

func TestJudgeAgreesWithTheGeneralWay(t *testing.T) {
	for name, spec := range map[string][]byte{
		"in order":                 {7},
		"in order, one failed":     {7, 3<<3 | 3},
		"in order, keys":           {3, 1<<3 | 5},
		"swapped":                  {7, 3<<3 | 7},
		"one missing":              {7, 2<<3 | 6},
		"an extra answer":          {7, 8<<3 | 0},
		"a duplicated id":          {7, 1<<3 | 0},
		"an unknown id":            {7, 4<<3 | 2},
		"an empty id":              {7, 1},
		"null data":                {7, 4},
		"an unknown result":        {7, 3<<3 | 3, 2<<3 | 3},
		"no answers at all":        {8},
		"answers built one by one": {9, 0<<3 | 0, 1<<3 | 0},
	} {
		t.Run(name, func(t *testing.T) { sameJudgement(t, spec) })
	}
}

func FuzzJudge(f *testing.F) {
	f.Add([]byte{7})
	f.Add([]byte{7, 3<<3 | 7, 2<<3 | 6})
	f.Add([]byte{9, 0, 1 << 3})
	f.Fuzz(sameJudgement)
}
