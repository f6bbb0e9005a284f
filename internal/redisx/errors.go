package redisx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Error is a Redis failure with what the user can change about it.
type Error struct {
	URL  string // REDIS_URL without its password
	Err  error  // nil for a URL refused before any call
	Hint string // what to change; may be empty
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "redisx: %s (%s)", EnvURL, e.URL)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, ": %s", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func (c *Client) usage(hint string) error { return &Error{URL: c.name, Hint: hint} }

func (c *Client) dbHint() string {
	return fmt.Sprintf("it selects database %d, but a Redis Cluster (ElastiCache Serverless is one) has only database 0: remove /%d from %s", c.db, c.db, EnvURL)
}

func (c *Client) optionHint(err error, what, other string) string {
	return fmt.Sprintf("%v (an option go-redis does not accept for %s; if the server is not %s, add %s)", err, what, what, other)
}

// Explain wraps err, a failed call through c, with what the user can do
// about it when the server's answer says (MOVED or CROSSSLOT from a cluster
// used as one node, SELECT refused, a wrong password). Errors it cannot
// help with are still wrapped, so that they name REDIS_URL. nil stays nil.
func (c *Client) Explain(err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{URL: c.name, Err: err}
	msg := err.Error()
	_, moved := redis.IsMovedError(err)
	_, ask := redis.IsAskError(err)
	isCluster, _ := c.Cluster()
	switch {
	case isCluster && redis.HasErrorPrefix(err, "CROSSSLOT"):
		e.Hint = "one command's keys are in different hash slots, which sluice's keys never should be: please report it"
	case moved || ask || redis.HasErrorPrefix(err, "CROSSSLOT"):
		e.Hint = "the server is a Redis Cluster but is used as one node: remove cluster=false from " + EnvURL + " (or set cluster=true)"
	case strings.Contains(msg, "SELECT is not allowed in cluster mode"):
		e.Hint = "a Redis Cluster has only database 0: remove the /db from " + EnvURL
	case redis.IsAuthError(err) || redis.HasErrorPrefix(err, "WRONGPASS"):
		e.Hint = "check the user and password in " + EnvURL
	case !c.tls && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		e.Hint = "the server closed the connection: if it accepts only TLS (ElastiCache Serverless, in-transit encryption), use rediss:// in " + EnvURL
	case redis.IsPermissionError(err):
		e.Hint = "the user in " + EnvURL + " lacks a permission sluice needs (GET, SET, DEL, MGET, MULTI, EVALSHA, EVAL, INFO)"
	}
	return e
}

// IsOutage reports whether err means Redis could not be reached or could
// not serve for now (network errors, timeouts, a cluster that is down or
// failing over), as opposed to a server that answered and refused. Callers
// that fail open do so only for an outage: a refusal is a configuration to
// fix, and failing open would hide it for good.
func IsOutage(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return redis.IsClusterDownError(err) || redis.IsLoadingError(err) || redis.IsTryAgainError(err) ||
		redis.IsMasterDownError(err) || redis.IsReadOnlyError(err) || redis.IsMaxClientsError(err)
}
