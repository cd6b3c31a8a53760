// Package store defines what gormcache needs from a cache backend: entries that
// carry the dependency stamps they were computed under, and the stamps
// themselves.
//
// The freshness protocol lives in the contract, not in the caller: a reader
// takes the stamps of its dependencies (Stamps) before it reads the database,
// and stores its result with them (Set); Get returns an entry only while every
// one of those stamps is still current; a writer renews the stamps of what it
// changed (Invalidate). An entry filled from a read that raced with a write
// therefore never validates, and no lock is held across the database read.
//
// Implementations: store/memory (in process, the default) and store/redis
// (shared by many processes). store/storetest is the conformance suite every
// implementation must pass.
package store

import (
	"context"
	"errors"
	"time"
)

// Dep names a set of rows that a cached value was computed from.
type Dep struct {
	// Table is the table the rows belong to, already namespaced by the
	// caller's prefix. Stores may group a table's metadata together (Redis
	// puts it under one hash tag).
	Table string
	// Cond is a canonical conjunction of equalities ("status=2&user_id=7")
	// naming the rows of Table it selects; "" names every row of Table.
	Cond string
}

// String returns the dependency as "table" or "table?cond".
func (d Dep) String() string {
	if d.Cond == "" {
		return d.Table
	}
	return d.Table + "?" + d.Cond
}

// Stamp is an opaque version of a Dep. A store never hands out the same stamp
// twice for one Dep, so a stamp that was current once and was renewed can
// never become current again. (A store that derives stamps from a hash, as
// the Redis store does, meets this with a 2^-64 chance of failure per pair.)
type Stamp uint64

// Entry is a cached value with the dependencies it was computed from and the
// stamps those dependencies had before the computation started.
type Entry struct {
	Value  []byte
	Deps   []Dep
	Stamps []Stamp // Stamps[i] belongs to Deps[i]
	// Text says what the value is, for people: a query result's SQL, its
	// placeholders kept. Many entries share one text (one statement, many
	// vars), so a store may keep a single copy of it for all of them. Get
	// does not return it; listings do, in EntryInfo.Text.
	Text string
}

// ErrInvalidEntry is returned by Set for an entry whose Deps and Stamps differ
// in length, or for a non-positive TTL.
var ErrInvalidEntry = errors.New("store: invalid entry")

// Store is a cache backend. Every method is safe for concurrent use. Errors
// are returned for backend failures (a Redis outage); a missing key is not an
// error.
type Store interface {
	// Get returns the value stored under key if it exists, has not expired
	// and every stamp recorded with it is still the current stamp of its Dep.
	// ok is false otherwise; an entry found invalid may be removed.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)

	// Stamps returns the current stamp of each dep, in order. A dep that
	// has none gets one, or shares one that the store renews for the deps
	// sharing it whenever one of them could otherwise return to a stamp it
	// had (the memory store's floors): either way, after Invalidate(d) d's
	// stamp is one it never had.
	Stamps(ctx context.Context, deps []Dep) ([]Stamp, error)

	// Set stores e under key for ttl, replacing any previous entry.
	Set(ctx context.Context, key string, e Entry, ttl time.Duration) error

	// Delete removes the entries stored under keys; missing keys are ignored.
	Delete(ctx context.Context, keys ...string) error

	// Invalidate renews the stamps of deps: every entry that recorded a stamp
	// of one of them stops validating, and the next Stamps call returns a
	// stamp never returned before.
	Invalidate(ctx context.Context, deps ...Dep) error
}

// Peeker is implemented by stores that can return a value without copying
// it, for readers that never modify what they read: an in-process store.
type Peeker interface {
	// Peek is Get, except that the value is the store's own: the caller
	// must not modify it, and may keep it. Neither does the store, nor does
	// it reuse the value's memory: a slice Peek returned holds the same
	// bytes for as long as anyone refers to it.
	Peek(ctx context.Context, key string) (value []byte, ok bool, err error)
}

// Flusher is implemented by stores that can remove everything they hold.
type Flusher interface {
	// Flush removes every entry and stamp of the store.
	Flush(ctx context.Context) error
}

// MaxSchemes is the number of schemes a SchemeRegistry must be able to keep
// per table. Beyond it AddSchemes may fail with ErrTooManySchemes, and the
// caller then depends on any row of the table instead.
const MaxSchemes = 64

// ErrTooManySchemes is returned by AddSchemes when a table's registry is full.
var ErrTooManySchemes = errors.New("store: too many schemes for one table")

// SchemeRegistry is implemented by stores that support row-level
// invalidation. A scheme is the sorted list of columns of a conjunction
// dependency ("status,user_id"): writes to a table compute, for each
// registered scheme, which conjunctions their rows belong to.
//
// The registry of a table is tied to the stamp of the table's whole-table
// dependency, Dep{Table: table}: when that stamp is renewed or lost, the
// registry goes with it. Every entry that used a scheme also recorded that
// stamp, so losing a registry can only invalidate entries, never let a write
// miss one.
type SchemeRegistry interface {
	// AddSchemes registers schemes for table, under the table's current
	// stamp (as Stamps returns it). A reader calls it after Stamps and
	// before it reads the database.
	AddSchemes(ctx context.Context, table string, schemes []string) error

	// Schemes returns the schemes registered for table under its current
	// stamp; none when the table has no stamp, or none registered under
	// it.
	Schemes(ctx context.Context, table string) ([]string, error)
}
