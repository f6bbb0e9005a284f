package transform

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/envelope"
	"github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/normalize"
)

// readOptions are how values are read: the transform's defaults, and each
// route's own (day_first, locale, timezone, trim), found for a record by
// matching its provenance against the routes, as the splitter did. The
// envelope does not carry them, so envelopes of every version read alike.
type readOptions struct {
	defaults *normalize.Options
	router   *config.Router
	routes   []*normalize.Options
}

func newReadOptions(cfg *config.Config) (*readOptions, error) {
	t := &cfg.Transform
	trim := t.Trim == nil || *t.Trim
	def, err := options(cfg, t.DayFirst, t.Locale, trim)
	if err != nil {
		return nil, err
	}
	def.Location = cfg.Location()
	ro := &readOptions{defaults: def}
	if len(cfg.Routes) == 0 {
		return ro, nil
	}
	if ro.router, err = config.NewRouter(cfg.Routes); err != nil {
		return nil, fmt.Errorf("transform: %w", err)
	}
	for i := range cfg.Routes {
		r := &cfg.Routes[i]
		o := *def
		if r.DayFirst != nil {
			o.DayFirst = *r.DayFirst
		}
		if r.Trim != nil {
			o.KeepSpaces = !*r.Trim
		}
		if r.DateLayouts != nil {
			o.DateLayouts = r.DateLayouts
		}
		if r.Locale != "" {
			if o.Locale, err = normalize.ParseLocale(r.Locale); err != nil {
				return nil, fmt.Errorf("transform: routes[%d].locale: %w", i, err)
			}
		}
		if loc := r.Location(); loc != nil {
			o.Location = loc
		}
		ro.routes = append(ro.routes, &o)
	}
	return ro, nil
}

func options(cfg *config.Config, dayFirst bool, locale string, trim bool) (*normalize.Options, error) {
	o := &normalize.Options{DayFirst: dayFirst, KeepSpaces: !trim, DateLayouts: cfg.Transform.DateLayouts,
		EpochFrom: cfg.Transform.EpochFrom, EpochUntil: cfg.Transform.EpochUntil}
	if locale != "" {
		l, err := normalize.ParseLocale(locale)
		if err != nil {
			return nil, fmt.Errorf("transform: transform.locale: %w", err)
		}
		o.Locale = l
	}
	return o, nil
}

// forSource returns the options of the route src came through. The last
// object's answer is kept: a batch holds runs of records of one object.
func (ro *readOptions) forSource(w *worker, src *envelope.Source) *normalize.Options {
	if ro.router == nil || src == nil {
		return ro.defaults
	}
	if w.route.opts != nil && w.route.key == src.Key && w.route.bucket == src.Bucket {
		return w.route.opts
	}
	opts := ro.defaults
	if i, ok := ro.router.Match(src.Bucket, src.Key); ok {
		opts = ro.routes[i]
	}
	w.route.bucket, w.route.key, w.route.opts = strings.Clone(src.Bucket), strings.Clone(src.Key), opts
	return opts
}

// columns answers normalize.Columns for the record being normalised: the
// decimal mark the values of a column of the same source object show by
// themselves, over the whole batch (every record whose envelope decodes,
// failed or not). Nothing is gathered until a value first needs it (a
// number such as 1.299), so batches without such values cost nothing.
//
// Gathered ahead (complete), the first question reads the whole batch
// once more. Gathered along (incremental, run's own pass), it reads again
// only the records already behind, then notes each record's fields as the
// pass decodes them, and answers from what it has seen so far: a record
// whose answers the rest of the batch could still change is pending, and
// run checks it once the pass has seen every record (settle).
type columns struct {
	batch *firehose.Batch
	src   *envelope.Source // the current record's
	// incremental: gathered along run's pass; final: every record seen.
	incremental, final bool
	// started: the evidence is gathered (ahead), or being gathered along
	// the pass from record from on.
	started bool
	from    int
	cur     int            // the record being normalised
	index   map[string]int // object and column → its mark in marks
	marks   []byte         // 0, '.', ',' or conflict
	// asks are the answers given while not final, for run to check;
	// asked counts every answer given.
	asks  []ask
	asked int
	dec   envelope.Decoded
	data  []byte // the decoding buffer, only ever this one
	key   []byte
}

// ask is one answer given before the evidence was final.
type ask struct {
	mark   int  // index into marks
	answer byte // what was answered
}

// conflict marks a column whose values show both decimal marks.
const conflict = 'x'

func (c *columns) reset(b *firehose.Batch, incremental bool) {
	c.batch, c.incremental, c.final, c.started = b, incremental, !incremental, false
	c.asks = c.asks[:0]
	c.marks = c.marks[:0]
	clear(c.index)
}

func (c *columns) Decimal(column string) byte {
	c.asked++
	if !c.started {
		c.start()
	}
	var src envelope.Source
	if c.src != nil {
		src = *c.src
	}
	c.key = columnKey(c.key[:0], &src, column)
	i, ok := c.index[string(c.key)]
	if !ok {
		if c.final {
			return 0
		}
		// Asked before any value showed a mark: note it, to be checked.
		i = len(c.marks)
		c.index[string(c.key)] = i
		c.marks = append(c.marks, 0)
	}
	m := c.marks[i]
	if m == conflict {
		m = 0
	}
	if !c.final {
		c.asks = append(c.asks, ask{mark: i, answer: m})
	}
	return m
}

// start gathers the evidence of the records already read: all of them
// when gathered ahead, else those up to the current one, the pass noting
// the later ones (noting the current one's again changes nothing).
func (c *columns) start() {
	c.started = true
	if c.index == nil {
		c.index = map[string]int{}
	}
	if !c.incremental {
		c.scan(0, c.batch.Len())
		return
	}
	c.scan(0, c.cur+1)
	c.from = c.cur + 1
}

// observeNow reports whether a record part just normalised is to be
// observed now, asked telling whether it asked for evidence. Gathered
// along the pass, a part that asked is observed when settle normalises it
// again with the whole batch's evidence, and then only the parts that ask
// (the others were observed in the pass); whether a part asks does not
// depend on the answers, as its first question comes before any.
func (c *columns) observeNow(asked bool) bool {
	return !c.incremental || asked == c.final
}

// noting reports whether the pass is to note record i's fields.
func (c *columns) noting(i int) bool {
	return c.started && !c.final && i >= c.from
}

// settled reports whether the answers asks[from:] would be given alike now.
func (c *columns) settled(from, to int) bool {
	for _, a := range c.asks[from:to] {
		m := c.marks[a.mark]
		if m == conflict {
			m = 0
		}
		if m != a.answer {
			return false
		}
	}
	return true
}

func columnKey(dst []byte, src *envelope.Source, column string) []byte {
	dst = append(dst, src.Bucket...)
	dst = append(dst, 0)
	dst = append(dst, src.Key...)
	dst = append(dst, 0)
	dst = append(dst, src.Version...)
	dst = append(dst, 0)
	return append(dst, column...)
}

// scan reads records [from, to) of the batch and notes each column's marks.
func (c *columns) scan(from, to int) {
	for i := from; i < to; i++ {
		if cap(c.data) == 0 && c.batch.DecodesIntoBuf() {
			// Room for any record (Firehose's are at most 1,000 KiB), so
			// base64 is always decoded here; data that is not base64 (a
			// typed event, as sluice run's) is the event's own, needs no
			// buffer and is never kept as one.
			c.data = make([]byte, 0, config.MaxFirehoseRecordBytes+1<<10)
		}
		data, err := c.batch.Data(i, c.data[:0])
		if err != nil {
			continue
		}
		for len(data) > 0 {
			line := data
			if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
				line, data = data[:nl], data[nl+1:]
			} else {
				data = nil
			}
			if envelope.Decode(line, &c.dec) != nil {
				continue
			}
			c.note(&c.dec)
		}
	}
}

// note adds the marks of one decoded record's text fields.
func (c *columns) note(d *envelope.Decoded) {
	for j := range d.Fields {
		f := &d.Fields[j]
		if f.Kind != envelope.String {
			continue
		}
		m := normalize.DecimalMark(f.Value)
		if m == 0 {
			continue
		}
		c.key = columnKey(c.key[:0], &d.Source, f.Name)
		i, ok := c.index[string(c.key)]
		if !ok {
			c.index[string(c.key)] = len(c.marks)
			c.marks = append(c.marks, m)
			continue
		}
		switch old := c.marks[i]; {
		case old == 0:
			c.marks[i] = m
		case old != m:
			c.marks[i] = conflict
		}
	}
}
