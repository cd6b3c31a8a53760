package redis

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"
)

// DefaultPrefix is the key prefix of a Store whose Config.Prefix is empty.
const DefaultPrefix = "gormcache:"

// Defaults of the other fields of Config.
const (
	defaultTimeout    = 100 * time.Millisecond
	defaultStampTTL   = 24 * time.Hour
	defaultRetryQueue = 10_000
	defaultRetryFor   = 30 * time.Second
)

// Config configures a Store. The zero value is ready to use.
type Config struct {
	// Prefix starts every key the store writes, so that stores with
	// different prefixes share a Redis without seeing each other's keys;
	// Flush removes only its own. It must not contain braces, which would
	// change the Redis Cluster hash tags of the keys. Default DefaultPrefix.
	Prefix string

	// Timeout bounds each round trip to Redis, so that no method but Flush
	// and Keys, which make one per batch of keys, takes longer, whatever
	// Redis does. A query through the plugin makes a few such calls.
	// Default 100ms.
	Timeout time.Duration

	// StampTTL is how long a stamp lives after the latest Stamps call that
	// read it (or AddSchemes call, for a table stamp). An expired stamp only invalidates the entries that recorded
	// it, so it should exceed the longest entry TTL in use for the best
	// hit ratio. Default 24h.
	StampTTL time.Duration

	// WriteWait is how long Invalidate keeps trying when Redis does not
	// take a deletion, before it queues it for the background retrier and
	// returns. A write through the plugin returns only after its
	// invalidation, so while Redis is out for less than WriteWait, no
	// instance can serve what the write changed once Redis answers again
	// (see the package doc). Default: three times Timeout.
	WriteWait time.Duration

	// RetryQueue bounds the number of dependencies whose invalidation
	// failed and waits to be retried in the background. When it would
	// overflow, the queued invalidations are dropped and the epoch is
	// renewed instead (see the package doc). Default 10_000.
	RetryQueue int

	// RetryFor is how long a failed invalidation is retried before it is
	// given up, which also renews the epoch. Default 30s.
	RetryFor time.Duration

	// Logf receives what no caller sees: the maxmemory-policy warning of
	// New, and the background retries giving up and renewing the epoch.
	// Errors of calls are returned, not logged. Default log.Printf.
	Logf func(format string, args ...any)
}

// withDefaults returns cfg with its zero fields set to their defaults, or an
// error for a field out of range.
func (cfg Config) withDefaults() (Config, error) {
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return cfg, fmt.Errorf("gormcache: redis: Prefix %q contains a brace", cfg.Prefix)
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"Timeout", cfg.Timeout}, {"StampTTL", cfg.StampTTL}, {"RetryFor", cfg.RetryFor}, {"WriteWait", cfg.WriteWait}} {
		if d.value < 0 {
			return cfg, fmt.Errorf("gormcache: redis: %s is %v, want 0 (the default) or more", d.name, d.value)
		}
	}
	if cfg.StampTTL > 0 && cfg.StampTTL < time.Millisecond {
		return cfg, errors.New("gormcache: redis: StampTTL is under a millisecond, the resolution of Redis TTLs")
	}
	if cfg.RetryQueue < 0 {
		return cfg, fmt.Errorf("gormcache: redis: RetryQueue is %d, want 0 (the default) or more", cfg.RetryQueue)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.StampTTL == 0 {
		cfg.StampTTL = defaultStampTTL
	}
	if cfg.WriteWait == 0 {
		cfg.WriteWait = 3 * cfg.Timeout
	}
	if cfg.RetryQueue == 0 {
		cfg.RetryQueue = defaultRetryQueue
	}
	if cfg.RetryFor == 0 {
		cfg.RetryFor = defaultRetryFor
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	return cfg, nil
}
