package redisx

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable holding the Redis URL.
const EnvURL = "REDIS_URL"

// Per-call defaults, used when the URL does not set them (query parameters
// dial_timeout, read_timeout, write_timeout, pool_timeout, max_retries).
// They are short on purpose: the cache and the checkpoints sit next to the
// Lambda, and a Redis that does not answer must cost an invocation little.
const (
	DefaultDialTimeout  = 250 * time.Millisecond
	DefaultReadTimeout  = 200 * time.Millisecond
	DefaultWriteTimeout = 200 * time.Millisecond
	DefaultPoolTimeout  = 200 * time.Millisecond
	// DefaultMaxRedirects is how often a cluster call is sent again: after
	// a MOVED or ASK redirect, or a node's timeout or network error
	// (query parameter max_redirects).
	DefaultMaxRedirects = 1
)

// mode is how the URL asks to talk to the server.
type mode int

const (
	detect  mode = iota // ask the server (INFO cluster) on first use
	single              // one node
	cluster             // a Redis Cluster
)

// Client is a Redis client for one REDIS_URL. It connects lazily: the first
// call that needs the server (Resolve) decides, when the URL did not, whether
// the server is a cluster, and keeps that answer. It is safe for concurrent
// use.
type Client struct {
	name     string // the URL without its password, for messages
	mode     mode
	tls      bool
	db       int
	single   *redis.Options
	clusterO *redis.ClusterOptions

	mu sync.Mutex // held while resolving
	rc atomic.Pointer[resolved]
}

type resolved struct {
	client  redis.UniversalClient
	cluster bool
}

// New parses a Redis URL:
//
//	redis://[user:password@]host:port[/db][?option=value...]
//	rediss://...   TLS (ElastiCache in-transit encryption; Serverless needs it)
//
// The query parameter cluster=true or cluster=false says what the server
// is; without it, an ElastiCache Serverless or cluster configuration
// endpoint, or several addr= seeds, mean a cluster, and any other server is
// asked (INFO cluster) on first use. A cluster has only database 0, so a
// /db other than 0 is refused for one. Other query parameters are go-redis's
// (redis.ParseURL for one node, redis.ParseClusterURL for a cluster).
func New(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold the password
		}
		return nil, fmt.Errorf("redisx: %s: %w", EnvURL, err)
	}
	c := &Client{name: u.Redacted()}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, c.usage(fmt.Sprintf("scheme %q: use redis:// or rediss:// (TLS)", u.Scheme))
	}
	c.tls = u.Scheme == "rediss"
	q := u.Query()
	if v := q.Get("cluster"); q.Has("cluster") {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return nil, c.usage(fmt.Sprintf("cluster=%q: use cluster=true or cluster=false", v))
		}
		c.mode = single
		if on {
			c.mode = cluster
		}
		q.Del("cluster")
	}
	host := strings.ToLower(u.Hostname())
	elastiCache := strings.HasSuffix(host, ".cache.amazonaws.com") || strings.HasSuffix(host, ".cache.amazonaws.com.cn")
	serverless := elastiCache && strings.Contains(host, ".serverless.")
	if serverless && u.Scheme != "rediss" {
		return nil, c.usage("ElastiCache Serverless accepts only TLS connections: use rediss://")
	}
	if c.mode == detect && (serverless || (elastiCache && strings.HasPrefix(host, "clustercfg.")) || q.Has("addr")) {
		c.mode = cluster
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if c.db, err = strconv.Atoi(p); err != nil || c.db < 0 {
			return nil, c.usage(fmt.Sprintf("database %q: the path is a database number, e.g. /0", p))
		}
	}
	if c.mode == cluster && c.db != 0 {
		return nil, c.usage(c.dbHint())
	}
	u.RawQuery = q.Encode()
	if c.mode != cluster {
		if c.single, err = redis.ParseURL(u.String()); err != nil {
			return nil, c.usage(c.optionHint(err, "one node", "cluster=true"))
		}
		c.single.ContextTimeoutEnabled = true
		c.single.DialerRetries = 1
		defaults(q, &c.single.DialTimeout, &c.single.ReadTimeout, &c.single.WriteTimeout, &c.single.PoolTimeout, &c.single.MaxRetries)
	}
	if c.mode != single {
		u.Path = ""
		if c.clusterO, err = redis.ParseClusterURL(u.String()); err != nil {
			return nil, c.usage(c.optionHint(err, "a cluster", "cluster=false"))
		}
		c.clusterO.ContextTimeoutEnabled = true
		c.clusterO.DialerRetries = 1
		defaults(q, &c.clusterO.DialTimeout, &c.clusterO.ReadTimeout, &c.clusterO.WriteTimeout, &c.clusterO.PoolTimeout, &c.clusterO.MaxRetries)
		if !q.Has("max_redirects") {
			// The cluster client also retries a timed-out node up to
			// MaxRedirects times (3 by default: 1.5s for a silent node at a
			// 200ms read timeout). One is enough to follow a MOVED or ASK.
			c.clusterO.MaxRedirects = DefaultMaxRedirects
		}
	}
	switch c.mode {
	case single:
		c.rc.Store(&resolved{client: redis.NewClient(c.single)})
	case cluster:
		c.rc.Store(&resolved{client: redis.NewClusterClient(c.clusterO), cluster: true})
	}
	return c, nil
}

// FromEnv returns a Client for REDIS_URL, or nil when it is unset.
func FromEnv() (*Client, error) {
	u := os.Getenv(EnvURL)
	if u == "" {
		return nil, nil
	}
	return New(u)
}

func defaults(q url.Values, dial, read, write, pool *time.Duration, retries *int) {
	set := func(name string, d *time.Duration, v time.Duration) {
		if !q.Has(name) {
			*d = v
		}
	}
	set("dial_timeout", dial, DefaultDialTimeout)
	set("read_timeout", read, DefaultReadTimeout)
	set("write_timeout", write, DefaultWriteTimeout)
	set("pool_timeout", pool, DefaultPoolTimeout)
	if !q.Has("max_retries") {
		*retries = -1 // a failed call is not retried: it fails (or fails open) at once
	}
}

// Resolve returns the go-redis client, asking the server whether it is a
// cluster on first use when the URL did not say. A failed question is not
// remembered: the next call asks again.
func (c *Client) Resolve(ctx context.Context) (redis.UniversalClient, error) {
	if r := c.rc.Load(); r != nil {
		return r.client, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.rc.Load(); r != nil {
		return r.client, nil
	}
	probeOpt := *c.single
	probeOpt.DB = 0 // a cluster refuses SELECT: ask first, select after
	probe := redis.NewClient(&probeOpt)
	isCluster, err := clusterEnabled(ctx, probe)
	if err != nil {
		_ = probe.Close()
		return nil, c.Explain(fmt.Errorf("asking whether the server is a cluster (INFO cluster): %w", err))
	}
	r := &resolved{cluster: isCluster}
	switch {
	case isCluster && c.db != 0:
		_ = probe.Close()
		return nil, c.usage(c.dbHint())
	case isCluster:
		_ = probe.Close()
		r.client = redis.NewClusterClient(c.clusterO)
	case c.db != 0:
		_ = probe.Close()
		r.client = redis.NewClient(c.single)
	default:
		r.client = probe
	}
	c.rc.Store(r)
	return r.client, nil
}

// clusterEnabled reads cluster_enabled from INFO cluster. A server that
// refuses the question (INFO renamed or not implemented) is taken for a
// single node; if it is a cluster after all, its MOVED answers are explained
// with cluster=true.
func clusterEnabled(ctx context.Context, probe *redis.Client) (bool, error) {
	info, err := probe.Info(ctx, "cluster").Result()
	var re redis.Error
	if errors.As(err, &re) && !IsOutage(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return strings.Contains(info, "cluster_enabled:1"), nil
}

// Cluster reports whether the client talks to a cluster; known is false
// until the server has been asked.
func (c *Client) Cluster() (cluster, known bool) {
	if r := c.rc.Load(); r != nil {
		return r.cluster, true
	}
	return false, false
}

// String is the URL without its password.
func (c *Client) String() string { return c.name }

// Close closes the connections.
func (c *Client) Close() error {
	if r := c.rc.Load(); r != nil {
		return r.client.Close()
	}
	return nil
}
