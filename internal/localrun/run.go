package localrun

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	sfirehose "github.com/sluicehq/sluice/internal/firehose"
	"github.com/sluicehq/sluice/internal/localfirehose"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter"
	"github.com/sluicehq/sluice/internal/topology"
	"github.com/sluicehq/sluice/internal/transform"
	"github.com/sluicehq/sluice/schema"
)

// Options configure a run.
type Options struct {
	Config   *config.Config
	Registry *schema.Registry
	// Inputs are files or folders. A folder's files are objects keyed by
	// their path below it (so "listings/a.csv" under the folder matches the
	// route "listings/**"); a file named directly is keyed by its path as
	// given.
	Inputs []string
	// Out is the output folder: delivered objects, processing-failed
	// records and the splitter's dead letters, as they would be in S3.
	Out string
	// Enrichers are the transform's lookups (built by the caller).
	Enrichers []transform.Enricher
	// Now and NewID make a run reproducible (tests). Defaults: the clock
	// and random UUIDs.
	Now   func() time.Time
	NewID func() string
	// Progress, when set, is called about every Interval with the run so
	// far. Default interval: 200ms.
	Progress func(Progress)
	Interval time.Duration
	// Log receives the handlers' logs. Default: discarded.
	Log *slog.Logger
	// Observer, when set, counts every record the transform normalises (see
	// transform.WithTallier): what sluice run's report is built
	// from.
	Observer transform.Tallier
	// Faults, when set, wraps the run's clients and events to inject
	// faults (sluice run -chaos; see internal/chaos). Default: none.
	Faults Faults
}

// Faults wraps what the run's stages call: the S3 events, the splitter's
// reads and PutRecordBatch client, each split (retries), and the transform
// invocation the Firehose emulator makes.
type Faults interface {
	Events([]splitter.Object) []splitter.Object
	Files(splitter.GetObjectAPI) splitter.GetObjectAPI
	Firehose(splitter.PutRecordBatchAPI) splitter.PutRecordBatchAPI
	Split(func(context.Context, splitter.Object) (splitter.Result, error)) func(context.Context, splitter.Object) (splitter.Result, error)
	Process(sfirehose.Processor) sfirehose.Processor
}

// Progress is how far a run has come.
type Progress struct {
	BytesRead, BytesTotal int64
	Objects, ObjectsTotal int
	Records               int64
	Elapsed               time.Duration
}

// Summary is what a run did to every record: in total (Counts) and stage
// by stage.
type Summary struct {
	Counts
	Objects, Unrouted, Missing int
	// UnroutedKeys names the objects no route matched (they were not read).
	UnroutedKeys []string
	// Discarded counts, by schema and input column, the values lost because
	// the schema has no "extra" map to keep columns that match no field.
	Discarded map[string]map[string]int64
	// Kept counts the values delivered with their original text kept in
	// extra beside the reading sluice chose (an unknown enum symbol read as
	// the default, a time cut to the field's precision).
	Kept int64
	// Rollups are the rollup routes' lines, by rollup name. Their records
	// (partial aggregates) are counted in RecordsIn like any record.
	Rollups map[string]*RollupSummary
	// Stages are the run's stages in order: the input, then each round of
	// objects delivered under a prefix a route reads (a chain).
	Stages []Stage
	// Files and ErrorFiles are the objects delivered and those under the
	// error prefix.
	Files, ErrorFiles int64
	BytesIn           int64
	Elapsed           time.Duration
}

// RollupSummary is what a rollup route did with its lines.
type RollupSummary struct {
	Lines, Aggregated int64
	// Excluded counts lines by the where rule they failed.
	Excluded map[string]int64
	// DeadLettered counts the route's dead letters (they are also in
	// Summary.DeadLettered).
	DeadLettered int64
	// Records counts the partial aggregates emitted.
	Records int64
}

// Conserved reports whether lines in = aggregated + excluded + dead letters.
func (r *RollupSummary) Conserved() bool {
	n := r.Aggregated + r.DeadLettered
	for _, e := range r.Excluded {
		n += e
	}
	return n == r.Lines
}

// Counts is what became of the records of a run, or of one stage.
type Counts struct {
	// RecordsIn counts the records the splitter read: sent to Firehose,
	// kept out of a stream by a fork's where, or dead-lettered because they
	// could not be parsed. A forked route counts a record once per branch.
	RecordsIn int64
	// Ok, Dropped and Failed are the transform's results (Dropped also
	// counts records a where kept out); FailedByReason splits Failed by
	// reason class, DroppedByRule Dropped by rule.
	Ok, Dropped, Failed int64
	FailedByReason      map[string]int64
	DroppedByRule       map[string]int64
	// DeadLettered counts the splitter's dead letters.
	DeadLettered int64
}

// Conserved reports whether every record read is accounted for:
// in = Ok + Dropped + Failed + splitter dead letters.
func (c Counts) Conserved() bool {
	return c.RecordsIn == c.Ok+c.Dropped+c.Failed+c.DeadLettered
}

// Stage is one round of a run. Stage 1 reads the input; stage N+1 reads
// the objects stage N delivered under a prefix that a route reads.
type Stage struct {
	Counts
	// Objects is how many objects the stage read, Read how many records
	// they held (before forks: a record sent to two streams counts once
	// here and twice in RecordsIn).
	Objects int
	Read    int64
	// HandedOn counts the documents the stage delivered into objects that
	// a route reads: the next stage's input.
	HandedOn int64
}

// Conserved reports whether every record is accounted for in the whole run
// and in each stage, whether every stage read exactly the documents the
// stage before handed on, and whether each rollup's lines are conserved.
func (s Summary) Conserved() bool {
	if !s.Counts.Conserved() {
		return false
	}
	for _, r := range s.Rollups {
		if !r.Conserved() {
			return false
		}
	}
	for i, st := range s.Stages {
		if !st.Conserved() || i > 0 && s.Stages[i-1].HandedOn != st.Read {
			return false
		}
	}
	return true
}

// object is one input file: bucket names its input folder.
type object struct {
	bucket, key string
	size        int64
	// route is set for an object a stage delivered: the route the graph
	// says reads it.
	route *config.Route
}

// Run runs the pipeline on opts.Inputs. An error is a systemic fault (the
// output folder cannot be written); bad records are counted, not errors.
func Run(ctx context.Context, opts Options) (Summary, error) {
	start := time.Now()
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	graph, err := topology.Build(opts.Config)
	if err != nil {
		return Summary{}, err
	}
	objects, roots, err := listInputs(opts.Inputs)
	if err != nil {
		return Summary{}, err
	}
	// Objects the stages deliver are read back from the output folder, a
	// bucket named after it.
	outBucket := filepath.Base(filepath.Clean(opts.Out))
	for i := 2; roots[outBucket] != ""; i++ {
		outBucket = fmt.Sprintf("%s-%d", filepath.Base(filepath.Clean(opts.Out)), i)
	}
	roots[outBucket] = opts.Out

	t := &tally{failed: map[string]int64{}, dropped: map[string]int64{}, discarded: map[string]map[string]int64{}}
	re := &sfirehose.Reingester{}
	topts := []transform.Option{transform.WithMetrics(metrics.New(io.Discard)), transform.WithLogger(log),
		transform.WithEnrichers(opts.Enrichers...), transform.WithReingester(re), transform.WithClock(now)}
	if opts.Observer != nil {
		topts = append(topts, transform.WithTallier(opts.Observer))
	}
	tr, err := transform.New(opts.Config, opts.Registry, topts...)
	if err != nil {
		return Summary{}, err
	}
	// The outcomes are counted at once: their memory serves the next batch.
	var spareOutcomes sync.Pool // *[]transform.Outcome
	var process sfirehose.Processor = func(ctx context.Context, ev events.KinesisFirehoseEvent) (sfirehose.Response, error) {
		outs, _ := spareOutcomes.Get().(*[]transform.Outcome)
		if outs == nil {
			outs = new([]transform.Outcome)
		}
		resp, outcomes, err := tr.ProcessInto(ctx, ev, *outs)
		if err == nil {
			t.add(outcomes)
			*outs = outcomes
		}
		spareOutcomes.Put(outs)
		return resp, err
	}
	// The transform (and a fault injector around it) keeps nothing of an
	// event once it has answered.
	emuOpts := []localfirehose.Option{localfirehose.WithClock(now), localfirehose.WithPipeline(transformWorkers()), localfirehose.WithReusedEvents(),
		localfirehose.WithDocumentPool(documentPool())}
	if opts.NewID != nil {
		emuOpts = append(emuOpts, localfirehose.WithIDs(opts.NewID))
	}
	out := localfirehose.Dir(opts.Out)
	if opts.Faults != nil {
		process = opts.Faults.Process(process)
	}
	delivered := &recorder{w: out, graph: graph}
	emu, err := localfirehose.New(opts.Config, process, delivered, emuOpts...)
	if err != nil {
		return Summary{}, err
	}
	re.Client = emu

	files := &countingFiles{roots: roots}
	var s3c splitter.GetObjectAPI = files
	if opts.Faults != nil {
		s3c = opts.Faults.Files(files)
		objects = faultEvents(opts.Faults, objects)
	}
	checkpoints := splitter.NewMemoryStore() // shared: a duplicate event finds its object done
	newSplitter := func(client splitter.PutRecordBatchAPI) (*splitter.Handler, error) {
		if opts.Faults != nil {
			client = opts.Faults.Firehose(client)
		}
		return splitter.New(opts.Config, s3c,
			splitter.NewFirehoseSink(client, splitter.WithStreams(opts.Config.Streams), splitter.WithBatchBytes(splitCallBytes)), splitter.WithCheckpoints(checkpoints),
			splitter.WithDeadLetters(deadLetters{out: out, prefix: opts.Config.DeadLetter.Prefix}),
			splitter.WithExports(exports{out: out}),
			splitter.WithMetrics(metrics.New(io.Discard)), splitter.WithLogger(log), splitter.WithClock(now))
	}
	if _, err := newSplitter(emu); err != nil {
		return Summary{}, err
	}

	var total, objectsTotal atomic.Int64
	add := func(objs []object) {
		for _, o := range objs {
			total.Add(o.size)
		}
		objectsTotal.Add(int64(len(objs)))
	}
	add(objects)
	var done atomic.Int64 // objects finished
	var records atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if opts.Progress != nil || opts.Now == nil {
		interval := opts.Interval
		if interval <= 0 {
			interval = 200 * time.Millisecond
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					// The emulator's buffer interval passes with real time.
					_ = emu.Poll(ctx)
					if opts.Progress != nil {
						opts.Progress(Progress{BytesRead: files.read.Load(), BytesTotal: total.Load(), Objects: int(done.Load()),
							ObjectsTotal: int(objectsTotal.Load()), Records: records.Load(), Elapsed: time.Since(start)})
					}
				}
			}
		}()
	}

	var sum Summary
	runErr := func() error {
		for len(objects) > 0 {
			before := t.counts(emu.Stats().Total().Failed)
			results, err := splitAll(ctx, objects, roots, newSplitter, opts.Faults, emu.PutOwnedRecordBatchThen, func(res splitter.Result) {
				records.Add(res.Sent + res.DeadLettered)
				done.Add(1)
			})
			if err != nil {
				emu.Stop()
				return err
			}
			var st Stage
			for i, o := range objects {
				res := results[i]
				if res.Status == splitter.StatusAlreadyDone {
					continue // a duplicate event
				}
				sum.Objects++
				st.Objects++
				switch res.Status {
				case splitter.StatusUnrouted:
					sum.Unrouted++
					sum.UnroutedKeys = append(sum.UnroutedKeys, o.bucket+"/"+o.key)
				case splitter.StatusMissing, splitter.StatusChanged:
					sum.Missing++
				case splitter.StatusDone:
					st.Read += res.Progress.Next
				}
				st.RecordsIn += res.Sent + res.DeadLettered
				st.DeadLettered += res.DeadLettered
				if rc := res.Rollup; rc != nil {
					sum.addRollup(rc, res.DeadLettered)
				}
				for stream, n := range res.Filtered {
					st.RecordsIn += n
					st.Dropped += n
					st.DroppedByRule = addTo(st.DroppedByRule, "where:"+stream, n)
				}
			}
			// The stage ends when every record it put is delivered: what
			// it delivered under a routed prefix is the next stage.
			if err := emu.Drain(ctx); err != nil {
				emu.Stop()
				return err
			}
			st.Counts = st.plus(t.counts(emu.Stats().Total().Failed).minus(before))
			objects = nil
			for _, d := range delivered.take() {
				objects = append(objects, object{bucket: outBucket, key: d.key, size: d.size, route: &opts.Config.Routes[d.route]})
				st.HandedOn += d.documents
			}
			add(objects)
			sum.Stages = append(sum.Stages, st)
			sum.Counts = sum.plus(st.Counts)
		}
		return emu.Close(ctx)
	}()
	close(stop)
	wg.Wait()
	if runErr != nil {
		return sum, runErr
	}

	stats := emu.Stats().Total()
	if len(t.discarded) > 0 {
		sum.Discarded = t.discarded
	}
	sum.Kept = t.kept
	sum.Files, sum.ErrorFiles, sum.BytesIn = stats.Files, stats.ErrorFiles, files.read.Load()
	sum.Elapsed = time.Since(start)
	if opts.Progress != nil {
		n := int(objectsTotal.Load())
		opts.Progress(Progress{BytesRead: sum.BytesIn, BytesTotal: total.Load(), Objects: n, ObjectsTotal: n,
			Records: sum.RecordsIn, Elapsed: sum.Elapsed})
	}
	return sum, nil
}

// plus returns c with o added.
func (c Counts) plus(o Counts) Counts {
	c.RecordsIn += o.RecordsIn
	c.Ok += o.Ok
	c.Dropped += o.Dropped
	c.Failed += o.Failed
	c.DeadLettered += o.DeadLettered
	for k, n := range o.DroppedByRule {
		c.DroppedByRule = addTo(c.DroppedByRule, k, n)
	}
	for k, n := range o.FailedByReason {
		c.FailedByReason = addTo(c.FailedByReason, k, n)
	}
	return c
}

// minus returns c less o, for the transform's results (a stage's share of
// the run's tally).
func (c Counts) minus(o Counts) Counts {
	d := Counts{Ok: c.Ok - o.Ok, Dropped: c.Dropped - o.Dropped, Failed: c.Failed - o.Failed}
	for k, n := range c.DroppedByRule {
		if n -= o.DroppedByRule[k]; n != 0 {
			d.DroppedByRule = addTo(d.DroppedByRule, k, n)
		}
	}
	for k, n := range c.FailedByReason {
		if n -= o.FailedByReason[k]; n != 0 {
			d.FailedByReason = addTo(d.FailedByReason, k, n)
		}
	}
	return d
}

// addTo adds n to m[k], making m when needed (maps always exist in a
// Summary's totals so callers can index them).
func addTo(m map[string]int64, k string, n int64) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[k] += n
	return m
}

// recorder passes the emulator's objects to the output folder and notes
// those a route reads, with their documents (newline-terminated JSON).
type recorder struct {
	w     localfirehose.Writer
	graph *topology.Graph
	mu    sync.Mutex
	taken []deliveredObject
}

type deliveredObject struct {
	key             string
	route           int
	size, documents int64
}

func (r *recorder) WriteObject(ctx context.Context, key string, body []byte) error {
	if err := r.w.WriteObject(ctx, key, body); err != nil {
		return err
	}
	r.note(key, int64(len(body)), func() int64 { return int64(bytes.Count(body, []byte{'\n'})) })
	return nil
}

// Begin starts an object written in parts (the emulator's destination
// buffer), noted as WriteObject notes a whole one when it is committed.
func (r *recorder) Begin(ctx context.Context) (localfirehose.Part, error) {
	a, ok := r.w.(localfirehose.Appender)
	if !ok {
		return nil, fmt.Errorf("localrun: %T cannot write an object in parts", r.w)
	}
	p, err := a.Begin(ctx)
	if err != nil || !r.chained() {
		return p, err // with no topic, no route reads what is written
	}
	return &recordedPart{r: r, p: p}, nil
}

// chained reports whether any stream is a topic, whose objects a route
// may read.
func (r *recorder) chained() bool {
	for _, s := range r.graph.Streams {
		if s.Topic {
			return true
		}
	}
	return false
}

// recordedPart is an object being written through a recorder: it counts
// the object's bytes and documents for the recorder's note.
type recordedPart struct {
	r               *recorder
	p               localfirehose.Part
	size, documents int64
}

func (p *recordedPart) Write(b []byte) error {
	p.size += int64(len(b))
	p.documents += int64(bytes.Count(b, []byte{'\n'}))
	return p.p.Write(b)
}

func (p *recordedPart) Commit(ctx context.Context, key string) error {
	if err := p.p.Commit(ctx, key); err != nil {
		return err
	}
	p.r.note(key, p.size, func() int64 { return p.documents })
	return nil
}

func (p *recordedPart) Abort() { p.p.Abort() }

// note notes a written object if a route reads it; documents counts its
// documents, asked only then.
func (r *recorder) note(key string, size int64, documents func() int64) {
	if route, ok := r.graph.Match(key); ok {
		r.mu.Lock()
		r.taken = append(r.taken, deliveredObject{key: key, route: route, size: size, documents: documents()})
		r.mu.Unlock()
	}
}

// take returns the objects noted since the last call, sorted by key.
func (r *recorder) take() []deliveredObject {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.taken
	r.taken = nil
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// tally counts the transform's outcomes, record by record (parts of packed
// records each count).
type tally struct {
	mu                    sync.Mutex
	ok, droppedN, failedN int64
	failed, dropped       map[string]int64
	discarded             map[string]map[string]int64
	kept                  int64
}

// counts returns the transform's results so far. emulatorFailed is the
// emulator's own count of failed records: beyond the transform's, they are
// batches it failed itself (a broken response).
func (t *tally) counts(emulatorFailed int64) Counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := Counts{Ok: t.ok, Dropped: t.droppedN, Failed: t.failedN,
		DroppedByRule: maps.Clone(t.dropped), FailedByReason: maps.Clone(t.failed)}
	if n := emulatorFailed - t.failedN; n > 0 {
		c.Failed += n
		c.FailedByReason = addTo(c.FailedByReason, "firehose", n)
	}
	return c
}

func (t *tally) add(outcomes []transform.Outcome) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range outcomes {
		for _, name := range o.Discarded {
			if t.discarded[o.Schema] == nil {
				t.discarded[o.Schema] = map[string]int64{}
			}
			t.discarded[o.Schema][name]++
		}
		if o.Result == sfirehose.Ok {
			t.kept += int64(o.Kept)
		}
		parts := int64(o.Parts)
		switch o.Result {
		case sfirehose.Ok:
			// Split parts failed and come back alone: counted then.
			t.ok += parts - int64(o.DroppedParts) - int64(o.SplitParts)
			t.droppedN += int64(o.DroppedParts)
			if o.DroppedParts > 0 {
				t.dropped["drop_rule"] += int64(o.DroppedParts)
			}
		case sfirehose.Dropped:
			if o.Class == "reingested" {
				continue // it comes back through the stream and is counted then
			}
			class := o.Class
			if o.SplitParts > 0 { // the failed parts come back alone; rules dropped the rest
				parts, class = int64(o.DroppedParts), "drop_rule"
			}
			t.droppedN += parts
			t.dropped[class] += parts
		case sfirehose.ProcessingFailed:
			t.failedN += parts
			t.failed[o.Class] += parts
		}
	}
}

// listInputs expands folders into their files, sorted, keyed by their path
// below the folder. Each folder is a bucket named after it (the bucket glob
// of a route sees that name); files named directly are in the bucket
// "local", keyed by their path. roots maps bucket names to folders.
func listInputs(inputs []string) ([]object, map[string]string, error) {
	var out []object
	roots := map[string]string{"local": "."}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, nil, fmt.Errorf("localrun: %w", err)
		}
		if !st.IsDir() {
			out = append(out, object{bucket: "local", key: filepath.ToSlash(filepath.Clean(in)), size: st.Size()})
			continue
		}
		bucket := filepath.Base(filepath.Clean(in))
		for i := 2; roots[bucket] != "" && roots[bucket] != in; i++ {
			bucket = fmt.Sprintf("%s-%d", filepath.Base(filepath.Clean(in)), i)
		}
		roots[bucket] = in
		err = filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(in, path)
			out = append(out, object{bucket: bucket, key: filepath.ToSlash(rel), size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("localrun: %w", err)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].bucket != out[j].bucket {
			return out[i].bucket < out[j].bucket
		}
		return out[i].key < out[j].key
	})
	return out, roots, nil
}

// countingFiles reads local files, a bucket being an input folder, and
// counts the bytes read, for progress.
type countingFiles struct {
	roots map[string]string
	read  atomic.Int64
}

func (c *countingFiles) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	local := *in
	local.Bucket = aws.String(c.roots[aws.ToString(in.Bucket)])
	out, err := splitter.Files{}.GetObject(ctx, &local, opts...)
	if err != nil {
		return nil, err
	}
	out.Body = &countingReader{r: out.Body, n: &c.read}
	return out, nil
}

type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// deadLetters writes the splitter's dead letters into the output folder,
// where the S3 dead-letter prefix would hold them.
type deadLetters struct {
	out    localfirehose.Writer
	prefix string
}

func (d deadLetters) WriteDeadLetters(ctx context.Context, name string, body []byte) error {
	return d.out.WriteObject(ctx, d.prefix+name, body)
}

// faultEvents delivers the objects' events through faults: some twice,
// some out of order.
func faultEvents(faults Faults, objects []object) []object {
	evs := make([]splitter.Object, len(objects))
	for i, o := range objects {
		evs[i] = splitter.Object{Bucket: o.bucket, Key: o.key, Size: o.size}
	}
	evs = faults.Events(evs)
	out := make([]object, len(evs))
	for i, e := range evs {
		out[i] = object{bucket: e.Bucket, key: e.Key, size: e.Size}
	}
	return out
}

func (s *Summary) addRollup(rc *splitter.RollupCounts, deadLettered int64) {
	if s.Rollups == nil {
		s.Rollups = map[string]*RollupSummary{}
	}
	r := s.Rollups[rc.Name]
	if r == nil {
		r = &RollupSummary{Excluded: map[string]int64{}}
		s.Rollups[rc.Name] = r
	}
	r.Lines += rc.Lines
	r.Aggregated += rc.Aggregated
	r.DeadLettered += deadLettered - rc.BranchDeadLetters
	r.Records += rc.Records
	for rule, n := range rc.Excluded {
		r.Excluded[rule] += n
	}
}

// exports writes rollup CSV exports into the output folder at their key
// (the bucket is the output folder).
type exports struct{ out localfirehose.Writer }

func (e exports) WriteExport(ctx context.Context, _, key string, body []byte) error {
	return e.out.WriteObject(ctx, key, body)
}
