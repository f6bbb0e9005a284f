package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/metrics"
	"github.com/sluicehq/sluice/internal/splitter"
)

func runReplay(args []string, stdout, stderr io.Writer) int {
	fl := newFlags("replay", "replay [-since T] [-until T] [-config FILE] s3://bucket/prefix",
		"Runs every object under the prefix through the splitter into its configured stream.", stderr)
	cfgPath := fl.String("config", config.PathFromEnv(), "config file (routes, streams, dead letters)")
	sinceFlag := fl.String("since", "", "only objects last modified at or after this time (RFC 3339, YYYY-MM-DD, or a duration ago such as 24h)")
	untilFlag := fl.String("until", "", "only objects last modified before this time (same forms as -since)")
	pos, code, ok := parseFlags(fl, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fl.Usage()
		return exitUsage
	}
	bucket, prefix, ok := splitter.ParseS3URL(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "sluice replay: %q is not an s3://bucket/prefix URL\n", pos[0])
		return exitUsage
	}
	now := time.Now()
	since, err := parseWhen(*sinceFlag, now)
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: -since: %v\n", err)
		return exitUsage
	}
	until, err := parseWhen(*untilFlag, now)
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: -until: %v\n", err)
		return exitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: %v\n", err)
		return exitUsage
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: AWS config: %v\n", err)
		return exitUsage
	}
	// A replay re-sends on purpose: done markers of earlier runs must not
	// skip objects, so checkpoints live in this process only.
	h, err := splitter.NewAWS(cfg, awsCfg, metrics.New(io.Discard),
		splitter.WithCheckpoints(splitter.NewMemoryStore()),
		splitter.WithInvoker(nil, ""),
		splitter.WithFormats(openFormat),
		splitter.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: %v\n", err)
		return exitUsage
	}
	sum, err := splitter.Replay(ctx, s3Lister(s3.NewFromConfig(awsCfg)), h, bucket, prefix, since, until, func(o splitter.Object, r splitter.Result) {
		fmt.Fprintf(stdout, "%s\ts3://%s/%s\tsent=%d\tdead_lettered=%d\n", r.Status, o.Bucket, o.Key, r.Sent, r.DeadLettered)
	})
	fmt.Fprintf(stdout, "objects=%d sent=%d dead_lettered=%d unrouted=%d missing=%d\n", sum.Objects, sum.Sent, sum.DeadLettered, sum.Unrouted, sum.Missing)
	if err != nil {
		fmt.Fprintf(stderr, "sluice replay: %v\n", err)
		return exitUsage
	}
	if sum.DeadLettered > 0 {
		return exitDeadLetter
	}
	return exitOK
}

// parseWhen reads an RFC 3339 time, a date (UTC midnight) or a duration
// before now. "" is no bound.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, a YYYY-MM-DD date or a duration such as 24h", s)
}

// s3Lister lists a prefix with ListObjectsV2, page by page. It lives in the
// CLI: the splitter Lambda never lists, so its role need not allow it.
func s3Lister(c *s3.Client) splitter.Lister {
	return func(ctx context.Context, bucket, prefix string, fn func(splitter.Listed) error) error {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				obj := splitter.Listed{Key: aws.ToString(o.Key), ETag: strings.Trim(aws.ToString(o.ETag), `"`),
					Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)}
				if err := fn(obj); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
