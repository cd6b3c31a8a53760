package gormcache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// DefaultTTL is the entry TTL used when Config.TTL is zero.
const DefaultTTL = 10 * time.Minute

// DefaultResultMemory is Config.ResultMemory when it is zero.
const DefaultResultMemory = 32 << 20

// Config configures a Plugin. The zero value works: a memory store with its
// defaults, DefaultTTL, no prefix, and only queries that opt in are cached.
type Config struct {
	// Store holds entries and stamps. Default: a memory store with its
	// default bounds (store/memory).
	Store store.Store

	// TTL is the default lifetime of an entry, and the age of the oldest
	// result a query is served. Default: DefaultTTL. A model Policy or
	// the TTL option overrides it.
	TTL time.Duration

	// Prefix namespaces every key and stamp the plugin writes, so that
	// several applications can share one store. Default: none.
	Prefix string

	// CacheAll caches every query of every model, as if each had Cache().
	// NoCache() opts a query out. Default: off.
	CacheAll bool

	// CacheGet caches primary-key lookups automatically: First(&u, id),
	// Take, Find with only primary-key (and soft-delete) conditions.
	// Default: off.
	CacheGet bool

	// Precision chooses how finely writes invalidate: RowLevel (the
	// default) evicts only the results a write's rows can change, at the
	// cost of reading the old rows of updates and deletes; TableLevel
	// evicts every result that reads a written table, for write-heavy
	// tables where that extra read does not pay. A model Policy overrides
	// it.
	Precision Precision

	// ResultMemory bounds the process memory in which the plugin keeps
	// recent results as Go values, so that a hit copies one instead of
	// decoding its stored rows again. A kept result weighs the heap it
	// holds (its values and everything they refer to, counted as the
	// allocator rounds; within 20% of what runtime.MemStats sees). A
	// result is kept by its first hit. Results are kept for slices,
	// model structs and the scalars Count and Pluck fill, when their types
	// can be copied exactly: strings, numbers, times, and pointers, slices,
	// maps and structs of those; a type with an unexported pointer, slice
	// or map (a decimal holding a *big.Int) is replayed instead. With Redis
	// it spares a hit the decoding, not the round trip. A result whose
	// stored value exceeds an eighth of ResultMemory is not kept. Default:
	// DefaultResultMemory; negative keeps none, so that every hit replays
	// its rows.
	ResultMemory int64

	// ScopeMemory bounds the answers one request scope keeps for the
	// plugin (see [WithRequestScope]): the bytes of their stored values,
	// keys and dependencies, plus a fixed overhead per answer. Once it is
	// reached the scope keeps no more answers and serves those it has. A
	// scope holds at most this much for as long as its request lasts, so
	// the memory of scopes is bounded by ScopeMemory times the requests in
	// flight. Default: DefaultScopeMemory; negative makes scopes keep
	// nothing, so that every read goes to the store as without one.
	ScopeMemory int64

	// TrustUnparsedExec, when set, makes a raw Exec whose written tables
	// cannot be determined invalidate nothing. Default: such an Exec
	// invalidates everything the plugin has cached, which is always safe.
	TrustUnparsedExec bool

	// MaxWriteRows is the number of rows an update or delete may change
	// and still be invalidated row by row (its old rows are read first); a
	// write that changes more invalidates its table. Default:
	// DefaultMaxWriteRows.
	MaxWriteRows int

	// OnInvalidate, when set, is called with every invalidation the plugin
	// delivers — each write's, right after its transaction commits, and
	// each manual call's — saying what was invalidated and why (see
	// package invalidation), for logs, metrics and tracing. It runs in the
	// goroutine of the write, after the commit: it must be quick, and must
	// not use the database. Default: nil.
	OnInvalidate func(ctx context.Context, e invalidation.Event)
}

// DefaultScopeMemory is Config.ScopeMemory when it is zero.
const DefaultScopeMemory = 1 << 20

// DefaultMaxWriteRows is Config.MaxWriteRows when it is zero.
const DefaultMaxWriteRows = 1000

// Policy is a model-wide cache policy. A model declares it with a method
// found like TableName:
//
//	func (Photo) CachePolicy() gormcache.Policy {
//		return gormcache.Policy{CacheAll: true, TTL: time.Hour}
//	}
type Policy struct {
	// CacheAll caches every query whose model is this one.
	CacheAll bool
	// CacheGet caches this model's primary-key lookups.
	CacheGet bool
	// TTL of this model's entries; zero means Config.TTL.
	TTL time.Duration
	// Precision of the invalidation of this model's table; zero means
	// Config.Precision.
	Precision Precision
}

// Precision is how finely writes invalidate cached results.
type Precision uint8

const (
	// DefaultPrecision defers to the Config (for a Policy) or means RowLevel.
	DefaultPrecision Precision = iota
	// RowLevel evicts the results whose rows a write adds, removes or
	// changes, and no others.
	RowLevel
	// TableLevel evicts every result that reads a written table.
	TableLevel
)

// Policier is implemented by models that declare a Policy.
type Policier interface {
	CachePolicy() Policy
}

// ErrConfig is wrapped by every configuration error New and Initialize return.
var ErrConfig = errors.New("gormcache: invalid config")

func (c *Config) validate() error {
	if c.TTL < 0 {
		return fmt.Errorf("%w: TTL is negative (%v)", ErrConfig, c.TTL)
	}
	if c.MaxWriteRows < 0 {
		return fmt.Errorf("%w: MaxWriteRows is negative (%d)", ErrConfig, c.MaxWriteRows)
	}
	if c.Precision > TableLevel {
		return fmt.Errorf("%w: Precision %d is none of DefaultPrecision, RowLevel and TableLevel", ErrConfig, c.Precision)
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		// Braces would change the Redis Cluster hash tags of the store's keys.
		return fmt.Errorf("%w: Prefix %q contains a brace", ErrConfig, c.Prefix)
	}
	return nil
}
