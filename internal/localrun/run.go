package localrun

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
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
	// Observer, when set, sees every record the transform normalises (see
	// transform.WithObserver): what sluice run's report is built from.
	Observer func(transform.Observation)
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

// Summary is what a run did to every record.
type Summary struct {
	Objects, Unrouted, Missing int
	// UnroutedKeys names the objects no route matched (they were not read).
	UnroutedKeys []string
	// RecordsIn counts the records the splitter read: sent to Firehose,
	// kept out of a stream by a fork's where, or dead-lettered because they
	// could not be parsed. A forked route counts a record once per branch.
	RecordsIn int64
	// Ok, Dropped and Failed are the transform's results; FailedByReason
	// splits Failed by reason class, DroppedByRule Dropped by rule.
	Ok, Dropped, Failed int64
	FailedByReason      map[string]int64
	DroppedByRule       map[string]int64
	// DeadLettered counts the splitter's dead letters.
	DeadLettered int64
	// Discarded counts, by schema and input column, the values lost because
	// the schema has no "extra" map to keep columns that match no field.
	Discarded map[string]map[string]int64
	// Rollups are the rollup routes' lines, by rollup name. Their records
	// (partial aggregates) are counted in RecordsIn like any record.
	Rollups map[string]*RollupSummary
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

// Conserved reports whether every record read is accounted for:
// in = Ok + Dropped + Failed + splitter dead letters, and each rollup's
// lines are conserved.
func (s Summary) Conserved() bool {
	for _, r := range s.Rollups {
		if !r.Conserved() {
			return false
		}
	}
	return s.RecordsIn == s.Ok+s.Dropped+s.Failed+s.DeadLettered
}

// object is one input file: bucket names its input folder.
type object struct {
	bucket, key string
	size        int64
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
	objects, roots, err := listInputs(opts.Inputs)
	if err != nil {
		return Summary{}, err
	}

	t := &tally{failed: map[string]int64{}, dropped: map[string]int64{}, discarded: map[string]map[string]int64{}}
	re := &sfirehose.Reingester{}
	topts := []transform.Option{transform.WithMetrics(metrics.New(io.Discard)), transform.WithLogger(log),
		transform.WithEnrichers(opts.Enrichers...), transform.WithReingester(re), transform.WithClock(now)}
	if opts.Observer != nil {
		topts = append(topts, transform.WithObserver(opts.Observer))
	}
	tr, err := transform.New(opts.Config, opts.Registry, topts...)
	if err != nil {
		return Summary{}, err
	}
	var process sfirehose.Processor = func(ctx context.Context, ev events.KinesisFirehoseEvent) (sfirehose.Response, error) {
		resp, outcomes, err := tr.Process(ctx, ev)
		if err == nil {
			t.add(outcomes)
		}
		return resp, err
	}
	emuOpts := []localfirehose.Option{localfirehose.WithClock(now), localfirehose.WithPipeline(cores())}
	if opts.NewID != nil {
		emuOpts = append(emuOpts, localfirehose.WithIDs(opts.NewID))
	}
	out := localfirehose.Dir(opts.Out)
	if opts.Faults != nil {
		process = opts.Faults.Process(process)
	}
	emu, err := localfirehose.New(opts.Config, process, out, emuOpts...)
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
			splitter.NewFirehoseSink(client, splitter.WithStreams(opts.Config.Streams)), splitter.WithCheckpoints(checkpoints),
			splitter.WithDeadLetters(deadLetters{out: out, prefix: opts.Config.DeadLetter.Prefix}),
			splitter.WithMetrics(metrics.New(io.Discard)), splitter.WithLogger(log), splitter.WithClock(now))
	}
	if _, err := newSplitter(emu); err != nil {
		return Summary{}, err
	}

	var total int64
	for _, o := range objects {
		total += o.size
	}
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
						opts.Progress(Progress{BytesRead: files.read.Load(), BytesTotal: total, Objects: int(done.Load()),
							ObjectsTotal: len(objects), Records: records.Load(), Elapsed: time.Since(start)})
					}
				}
			}
		}()
	}

	var sum Summary
	filtered := map[string]int64{} // by stream: kept out by a fork's where
	runErr := func() error {
		results, err := splitAll(ctx, objects, roots, newSplitter, opts.Faults, emu, func(res splitter.Result) {
			records.Add(res.Sent + res.DeadLettered)
			done.Add(1)
		})
		if err != nil {
			emu.Stop()
			return err
		}
		for i, o := range objects {
			res := results[i]
			if res.Status == splitter.StatusAlreadyDone {
				continue // a duplicate event
			}
			sum.Objects++
			switch res.Status {
			case splitter.StatusUnrouted:
				sum.Unrouted++
				sum.UnroutedKeys = append(sum.UnroutedKeys, o.bucket+"/"+o.key)
			case splitter.StatusMissing, splitter.StatusChanged:
				sum.Missing++
			}
			sum.RecordsIn += res.Sent + res.DeadLettered
			for stream, n := range res.Filtered {
				sum.RecordsIn += n
				filtered[stream] += n
			}
			sum.DeadLettered += res.DeadLettered
			if rc := res.Rollup; rc != nil {
				sum.addRollup(rc, res.DeadLettered)
			}
		}
		return emu.Close(ctx)
	}()
	close(stop)
	wg.Wait()
	if runErr != nil {
		return sum, runErr
	}

	stats := emu.Stats().Total()
	sum.Ok, sum.Dropped, sum.Failed = t.ok, t.droppedN, t.failedN
	sum.FailedByReason, sum.DroppedByRule = t.failed, t.dropped
	if len(t.discarded) > 0 {
		sum.Discarded = t.discarded
	}
	for stream, n := range filtered {
		sum.Dropped += n
		sum.DroppedByRule["where:"+stream] += n
	}
	if n := stats.Failed - t.failedN; n > 0 {
		// The emulator failed whole batches itself (a broken response).
		sum.Failed += n
		sum.FailedByReason["firehose"] += n
	}
	sum.Files, sum.ErrorFiles, sum.BytesIn = stats.Files, stats.ErrorFiles, files.read.Load()
	sum.Elapsed = time.Since(start)
	if opts.Progress != nil {
		opts.Progress(Progress{BytesRead: sum.BytesIn, BytesTotal: total, Objects: len(objects), ObjectsTotal: len(objects),
			Records: sum.RecordsIn, Elapsed: sum.Elapsed})
	}
	return sum, nil
}

// tally counts the transform's outcomes, record by record (parts of packed
// records each count).
type tally struct {
	mu                    sync.Mutex
	ok, droppedN, failedN int64
	failed, dropped       map[string]int64
	discarded             map[string]map[string]int64
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
		parts := int64(o.Parts)
		switch o.Result {
		case sfirehose.Ok:
			t.ok += parts - int64(o.DroppedParts)
			t.droppedN += int64(o.DroppedParts)
			if o.DroppedParts > 0 {
				t.dropped["drop_rule"] += int64(o.DroppedParts)
			}
		case sfirehose.Dropped:
			if o.Class == "reingested" {
				continue // it comes back through the stream and is counted then
			}
			t.droppedN += parts
			t.dropped[o.Class] += parts
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
	r.DeadLettered += deadLettered
	r.Records += rc.Records
	for rule, n := range rc.Excluded {
		r.Excluded[rule] += n
	}
}
