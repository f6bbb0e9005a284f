package splitter

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// lister lists fakeS3 two keys a page; modified gives LastModified per key.
type lister struct {
	s3       *fakeS3
	modified map[string]time.Time
	pages    int
}

func (l *lister) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	l.pages++
	l.s3.mu.Lock()
	defer l.s3.mu.Unlock()
	var keys []string
	for bk := range l.s3.objects {
		b, k, _ := strings.Cut(bk, "/")
		if b == aws.ToString(in.Bucket) && strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for i, k := range keys {
		if i == 2 {
			out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(keys[1])
			break
		}
		o := l.s3.objects[aws.ToString(in.Bucket)+"/"+k]
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k), ETag: aws.String(`"` + o.etag + `"`), Size: aws.Int64(int64(len(o.data))), LastModified: aws.Time(l.modified[k])})
	}
	return out, nil
}

// sdkLister lists with any ListObjectsV2 client, as the CLI does.
func sdkLister(c interface {
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}) Lister {
	return func(ctx context.Context, bucket, prefix string, fn func(Listed) error) error {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				if err := fn(Listed{Key: aws.ToString(o.Key), ETag: strings.Trim(aws.ToString(o.ETag), `"`), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)}); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func TestReplay(t *testing.T) {
	r := newRig(t, nil)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	l := &lister{s3: r.s3, modified: map[string]time.Time{}}
	for i, k := range []string{"listings/a.txt", "listings/b.txt", "listings/c.txt", "listings/d.txt", "listings/e.bin"} {
		r.s3.add("b", k, numbered(10+i), "", "etag-"+k)
		l.modified[k] = day(10 + i)
	}
	r.s3.add("b", "other/x.txt", numbered(5), "", "x")
	var seen []string
	sum, err := Replay(context.Background(), sdkLister(l), r.h, "b", "listings/", day(11), day(14), func(o Object, _ Result) { seen = append(seen, o.Key) })
	if err != nil {
		t.Fatal(err)
	}
	// b (11), c (12), d (13); a is before since, e.bin is at until.
	if strings.Join(seen, ",") != "listings/b.txt,listings/c.txt,listings/d.txt" {
		t.Fatalf("replayed %v", seen)
	}
	if sum.Objects != 3 || sum.Sent != 11+12+13 || len(delivered(t, r.fh, "events")) != 36 || l.pages < 2 {
		t.Fatalf("summary %+v, pages %d", sum, l.pages)
	}
	// Unbounded, with the unrouted .bin counted as such.
	sum, err = Replay(context.Background(), sdkLister(l), r.h, "b", "listings/", time.Time{}, time.Time{}, nil)
	if err != nil || sum.Objects != 5 || sum.Unrouted != 1 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
}
