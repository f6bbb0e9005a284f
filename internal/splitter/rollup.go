package splitter

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/format"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/rollup"
)

// A rollup route aggregates its lines in segments. A segment ends after
// rollup.max_groups groups or rollup.segment_lines lines, or at the end of
// the object; its records are put, and only when every one is
// acknowledged does the checkpoint move past its last line. At the
// deadline the segment under way is not emitted: the next invocation reads
// it again from its first line. Segment boundaries therefore depend only
// on the object, and the ids (object, rollup, segment, group) are the same
// however many invocations the object takes, and when it is split again.

// aggregate adds one record to the segment, dead-letters it when it cannot
// be aggregated, and emits the segment when it is full.
func (r *objectRun) aggregate(ctx context.Context, rec format.Record) error {
	out, _, reason := r.agg.Add(rec.Fields)
	if out == rollup.Invalid && r.index >= r.start.DeadLettered {
		if r.rollupEnc == nil {
			r.rollupEnc = envelope.NewEncoder(r.rollupRoute.Schema, r.source(0, 0, nil))
		}
		r.buf = r.rollupEnc.Append(r.buf[:0], r.index, rec.Line, rec.Offset, rec.Flags, rec.Fields)
		s := r.source(rec.Line, rec.Offset, rec.Flags)
		if err := r.deadLetter(ctx, ClassRollupValue, reason, r.buf, &s); err != nil {
			return err
		}
	}
	if r.agg.Full() {
		return r.emitSegment(ctx, r.index+1)
	}
	return nil
}

// emitSegment puts the segment's records, waits for all of them to be
// acknowledged and moves the checkpoint to end, the segment's end.
func (r *objectRun) emitSegment(ctx context.Context, end int64) error {
	rr := r.rollupRoute
	name := rr.Rollup.Name
	recs, counts, err := r.agg.Flush(strings.TrimSuffix(envelope.RecordID(r.o.Bucket, r.o.Key, r.o.Version, r.o.ETag, 0), "-0"), r.prog.Segment)
	if err != nil {
		return err
	}
	maxRecord := r.h.cfg.Limits.MaxRecordBytes
	if maxRecord <= 0 || maxRecord > config.MaxFirehoseRecordBytes {
		maxRecord = config.MaxFirehoseRecordBytes
	}
	src := r.source(0, 0, nil)
	for i := range recs {
		r.buf = envelope.Append(r.buf[:0], &envelope.Record{ID: recs[i].ID, Schema: rr.Schema, Source: src, Fields: recs[i].Fields})
		if len(r.buf) > maxRecord {
			// Not lost: the whole record is in the dead letter.
			reason := fmt.Sprintf("rollup %s: record of %d bytes is over the %d-byte record limit (fewer measures or a smaller rollup.max_groups)", name, len(r.buf), maxRecord)
			if err := r.deadLetter(ctx, ClassRecordTooLarge, reason, r.buf, &src); err != nil {
				return err
			}
			continue
		}
		if err := r.put(ctx, rr.Stream, r.buf, 0); err != nil {
			return err
		}
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	if err := r.export(ctx, recs); err != nil {
		return err
	}
	lines := end - r.segStart
	r.rollup.Lines += lines
	r.rollup.Aggregated += counts.Aggregated
	r.rollup.Records += int64(len(recs))
	m, dim := r.h.metrics, metrics.Dim{Name: "Rollup", Value: name}
	m.Add("RollupLines", metrics.Count, float64(lines), dim)
	m.Add("RollupAggregated", metrics.Count, float64(counts.Aggregated), dim)
	m.Add("RollupRecords", metrics.Count, float64(len(recs)), dim)
	for i, n := range counts.Excluded {
		if n > 0 {
			rule := rr.Rollup.Where[i].Name
			r.rollup.Excluded[rule] += n
			m.Add("RollupExcluded", metrics.Count, float64(n), dim, metrics.Dim{Name: "Rule", Value: rule})
		}
	}
	r.segStart = end
	r.prog.Next, r.prog.Segment = end, r.prog.Segment+1
	r.prog.Sent = r.start.Sent + r.sent
	return r.h.checkpoints.Save(ctx, r.id, r.prog)
}

// export writes the segment's totals as CSV when the rollup asks for it:
// <prefix><rollup>/<object id>-<segment>.csv, the same name when retried.
func (r *objectRun) export(ctx context.Context, recs []rollup.Record) error {
	ro := r.rollupRoute.Rollup
	if ro.Export == "" || len(recs) == 0 {
		return nil
	}
	if r.h.exports == nil {
		return fmt.Errorf("splitter: rollup %s: export to %s: no S3 client that can PutObject", ro.Name, ro.Export)
	}
	m, err := rollup.NewMerger(r.rollupRoute, rollup.Query{})
	if err != nil {
		return err
	}
	for i := range recs {
		if err := m.Add(rollup.Document(recs[i].Fields)); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := rollup.WriteCSV(&b, m.Columns(), m.Rows()); err != nil {
		return err
	}
	bucket, prefix := ro.ExportLocation()
	key := fmt.Sprintf("%s%s/%s-%d.csv", prefix, ro.Name, r.id, r.prog.Segment)
	return r.h.exports.WriteExport(ctx, bucket, key, b.Bytes())
}
