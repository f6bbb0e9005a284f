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
// themselves, over the whole batch. The batch is read for it only when a
// value first needs it (a number such as 1.299), so batches without such
// values cost nothing.
type columns struct {
	batch   *firehose.Batch
	src     *envelope.Source // the current record's
	scanned bool
	marks   map[string]byte // object and column → '.', ',' or conflict
	dec     envelope.Decoded
	data    []byte // the decoding buffer, only ever this one
	key     []byte
}

// conflict marks a column whose values show both decimal marks.
const conflict = 'x'

func (c *columns) reset(b *firehose.Batch) {
	c.batch, c.scanned = b, false
	clear(c.marks)
}

func (c *columns) Decimal(column string) byte {
	if !c.scanned {
		c.scan()
		c.scanned = true
	}
	var src envelope.Source
	if c.src != nil {
		src = *c.src
	}
	c.key = columnKey(c.key[:0], &src, column)
	if m := c.marks[string(c.key)]; m != conflict {
		return m
	}
	return 0
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

// scan reads every record of the batch and notes each column's marks.
func (c *columns) scan() {
	if c.marks == nil {
		c.marks = map[string]byte{}
	}
	for i := 0; i < c.batch.Len(); i++ {
		if cap(c.data) == 0 {
			// Room for any record (Firehose's are at most 1,000 KiB), so
			// base64 is always decoded here; data that is not base64 is
			// the event's own and is never kept as a buffer.
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
			for j := range c.dec.Fields {
				f := &c.dec.Fields[j]
				if f.Kind != envelope.String {
					continue
				}
				m := normalize.DecimalMark(f.Value)
				if m == 0 {
					continue
				}
				c.key = columnKey(c.key[:0], &c.dec.Source, f.Name)
				switch old, ok := c.marks[string(c.key)]; {
				case !ok:
					c.marks[string(c.key)] = m
				case old != m:
					c.marks[string(c.key)] = conflict
				}
			}
		}
	}
}
