package splitter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListObjectsAPI is the S3 call Replay lists a prefix with.
type ListObjectsAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// ReplaySummary counts what Replay did.
type ReplaySummary struct {
	Objects, Unrouted, Missing int64
	Sent, DeadLettered         int64
}

// Replay runs every object under bucket/prefix last modified in
// [since, until) (zero times: no bound) through the handler, one at a time,
// reading each at the listed ETag. each, when not nil, sees every result.
// It stops at the first systemic error.
func Replay(ctx context.Context, list ListObjectsAPI, h *Handler, bucket, prefix string, since, until time.Time, each func(Object, Result)) (ReplaySummary, error) {
	var sum ReplaySummary
	p := s3.NewListObjectsV2Paginator(list, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return sum, fmt.Errorf("splitter: listing s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			mod := aws.ToTime(o.LastModified)
			if (!since.IsZero() && mod.Before(since)) || (!until.IsZero() && !mod.Before(until)) {
				continue
			}
			obj := Object{Bucket: bucket, Key: aws.ToString(o.Key), ETag: strings.Trim(aws.ToString(o.ETag), `"`), Size: aws.ToInt64(o.Size)}
			res, err := h.Split(ctx, obj, nil)
			if err != nil {
				return sum, err
			}
			sum.Objects++
			switch res.Status {
			case StatusUnrouted:
				sum.Unrouted++
			case StatusMissing, StatusChanged:
				sum.Missing++
			}
			sum.Sent += res.Sent
			sum.DeadLettered += res.DeadLettered
			if each != nil {
				each(obj, res)
			}
		}
	}
	return sum, nil
}
