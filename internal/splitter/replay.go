package splitter

import (
	"context"
	"fmt"
	"time"
)

// Listed is one object a Lister found.
type Listed struct {
	Key          string
	ETag         string // without quotes
	Size         int64
	LastModified time.Time
}

// Lister calls fn for every object under bucket/prefix. The CLI lists S3
// with ListObjectsV2; the Lambda never lists, so its role need not allow it.
type Lister func(ctx context.Context, bucket, prefix string, fn func(Listed) error) error

// ReplaySummary counts what Replay did.
type ReplaySummary struct {
	Objects, Unrouted, Missing int64
	Sent, DeadLettered         int64
}

// Replay runs every object under bucket/prefix last modified in
// [since, until) (zero times: no bound) through the handler, one at a time,
// reading each at the listed ETag. each, when not nil, sees every result.
// It stops at the first systemic error.
func Replay(ctx context.Context, list Lister, h *Handler, bucket, prefix string, since, until time.Time, each func(Object, Result)) (ReplaySummary, error) {
	var sum ReplaySummary
	errSplit := fmt.Errorf("splitter: replay")
	var splitErr error
	err := list(ctx, bucket, prefix, func(o Listed) error {
		if (!since.IsZero() && o.LastModified.Before(since)) || (!until.IsZero() && !o.LastModified.Before(until)) {
			return nil
		}
		obj := Object{Bucket: bucket, Key: o.Key, ETag: o.ETag, Size: o.Size}
		res, err := h.Split(ctx, obj, nil)
		if err != nil {
			splitErr = err
			return errSplit
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
		return nil
	})
	if splitErr != nil {
		return sum, splitErr
	}
	if err != nil {
		return sum, fmt.Errorf("splitter: listing s3://%s/%s: %w", bucket, prefix, err)
	}
	return sum, nil
}
