package transform

import (
	"context"
	"fmt"
	"sort"

	"github.com/sluicehq/sluice/enrich"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/normalize"
	"github.com/sluicehq/sluice/schema"
)

// Enricher is an external lookup applied per batch (enrich.Enricher).
type Enricher interface {
	Name() string
	Schema() string
	OnError() string
	StatusField() string
	Key(get func(field string) (string, bool)) (string, bool)
	Lookup(ctx context.Context, keys []string) map[string]enrich.Result
}

// WithEnrichers adds lookups applied to every batch.
func WithEnrichers(e ...Enricher) Option {
	return func(h *Handler) { h.enrichers = append(h.enrichers, e...) }
}

// lookups are one batch's enrichment results: per enricher, per key.
type lookups []map[string]enrich.Result

// lookupBatch collects the distinct keys of the whole batch and looks them
// up, one call per enricher, before any record is written. It normalises
// every record to find its keys and forgets the values again, so memory
// stays one line of a packed record deep. It returns nil when no enricher
// applies.
func (h *Handler) lookupBatch(ctx context.Context, w *worker, b *firehose.Batch, stream string, cutoff func() bool) lookups {
	if len(h.enrichers) == 0 {
		return nil
	}
	keys := make([]map[string]struct{}, len(h.enrichers))
	for i := range keys {
		keys[i] = map[string]struct{}{}
	}
	first := len(w.items)
	w.lookingUp = true
	defer func() { w.lookingUp = false }()
	// Each part's keys are read as soon as it is normalised, and its values
	// let go (the keys are copies), as the main pass does: a packed record
	// of thousands of lines never holds more than one line's values.
	keysOf := func(k int) {
		it := &w.items[k]
		if it.fail == nil && it.dropped == "" {
			for j, e := range h.enrichers {
				if e.Schema() != it.plan.Schema.Name {
					continue
				}
				if key, ok := e.Key(getter(it)); ok {
					keys[j][key] = struct{}{}
				}
			}
		}
		it.val = schema.Value{}
		w.sc.Rewind()
	}
	for i := 0; i < b.Len() && !cutoff(); i++ {
		data, err := b.Data(i, w.data[:0])
		if err != nil {
			continue
		}
		if b.DecodesIntoBuf() {
			w.data = data
		}
		h.normaliseRecord(w, b, i, data, stream, keysOf)
		w.items = w.items[:first]
	}
	out := make(lookups, len(h.enrichers))
	for j, e := range h.enrichers {
		if len(keys[j]) == 0 {
			continue
		}
		list := make([]string, 0, len(keys[j]))
		for k := range keys[j] {
			list = append(list, k)
		}
		sort.Strings(list)
		out[j] = e.Lookup(ctx, list)
	}
	return out
}

func getter(it *item) func(string) (string, bool) {
	return func(field string) (string, bool) { return it.plan.Get(&it.val, field) }
}

// applyEnrichment puts each lookup's result into the normalised records,
// through the schema like any input field, and applies on_error.
func (h *Handler) applyEnrichment(w *worker, items []item, found lookups) {
	if found == nil {
		return
	}
	for k := range items {
		it := &items[k]
		if it.fail != nil || it.dropped != "" {
			continue
		}
		for j, e := range h.enrichers {
			if e.Schema() != it.plan.Schema.Name {
				continue
			}
			if f := h.enrichOne(w, it, e, found[j]); f != nil {
				it.fail = f
				break
			}
		}
	}
}

func (h *Handler) enrichOne(w *worker, it *item, e Enricher, results map[string]enrich.Result) *normalize.Failure {
	status := func(s string) *normalize.Failure {
		if e.StatusField() == "" {
			return nil
		}
		return it.plan.Set(&w.sc, &it.val, e.StatusField(), s)
	}
	key, ok := e.Key(getter(it))
	if !ok {
		return status(enrich.StatusNoKey)
	}
	res, ok := results[key]
	if !ok {
		// The deadline cut the lookups short before this key.
		res = enrich.Result{Status: enrich.StatusError, Err: fmt.Errorf("no lookup was made before the deadline")}
	}
	if res.Err != nil {
		if e.OnError() == "fail" {
			return &normalize.Failure{Reason: fmt.Sprintf("enricher %s: %v", e.Name(), res.Err), Class: normalize.ClassEnrich}
		}
		return status(res.Status)
	}
	if res.Found {
		names := make([]string, 0, len(res.Fields))
		for name := range res.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if f := it.plan.Set(&w.sc, &it.val, name, res.Fields[name]); f != nil {
				if e.OnError() == "fail" {
					f.Reason = fmt.Sprintf("enricher %s: %s", e.Name(), f.Reason)
					return f
				}
				return status(enrich.StatusError)
			}
		}
	}
	return status(res.Status)
}
