// Package redisx builds sluice's one Redis client from REDIS_URL. The same
// URL works against a single node, a Redis Cluster and ElastiCache
// Serverless (always a cluster, TLS only): the client is cluster-aware when
// the URL says so or the server does, every call is bounded by a short
// per-call timeout as well as the context, and errors a user can act on name
// REDIS_URL and what to change.
package redisx
