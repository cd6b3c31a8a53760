package store

import (
	"context"
	"errors"
	"time"
)

// The interfaces of this file are optional capabilities, for tools that look
// into a store (the admin pages) rather than for the plugin, which needs only
// Store. A caller checks for them with a type assertion.

// Names of capabilities an Info reports.
const (
	CapList    = "list"    // Lister
	CapSort    = "sort"    // Lister honours ListOptions.Sort
	CapInspect = "inspect" // Inspector
	CapFlush   = "flush"   // Flusher
	CapPurge   = "purge"   // Purger
	CapRows    = "rows"    // SchemeRegistry: row-level invalidation
	CapHits    = "hits"    // EntryInfo.Hits is counted, and Lister honours SortHits
	CapTTL     = "ttl"     // TTLSetter
	CapReport  = "report"  // Reporter
)

// Info describes a store for people.
type Info struct {
	// Kind names the implementation ("memory", "redis").
	Kind string
	// Location says where the entries live ("process memory", a Redis
	// address). It never holds a password.
	Location string
	// Capabilities lists the Cap* names the store supports.
	Capabilities []string
	// Entries is the approximate number of entries, expired and invalid
	// ones not yet removed included; -1 when unknown.
	Entries int
	// Bytes is the approximate memory the entries hold; -1 when unknown.
	Bytes int64
}

// Describer is implemented by stores that can describe themselves.
type Describer interface {
	Describe(ctx context.Context) (Info, error)
}

// EntryInfo is what a store knows about an entry besides its value.
type EntryInfo struct {
	Key string
	// Text is the Entry.Text the entry was stored with.
	Text string
	// Size is the number of bytes the entry holds in the store, its value
	// and bookkeeping included.
	Size int
	// Created is when the entry was stored; zero when unknown.
	Created time.Time
	// Expires is when the entry's TTL ends.
	Expires time.Time
	// Deps and Stamps are those the entry was stored with.
	Deps   []Dep
	Stamps []Stamp
	// Current holds the current stamp of each dep (what Get compares
	// Stamps with), 0 where the dep has none. Reading it never creates a
	// stamp.
	Current []Stamp
	// Valid is true when every stamp of Stamps equals its Current one, that
	// is when Get would return the entry (if it has not expired).
	Valid bool
	// Hits is the number of times Get returned the entry since it was
	// stored, as this process's store counted them; -1 for a store
	// without CapHits (the Redis store: a counter would make every hit a
	// write).
	Hits int64
}

// Expired reports whether the entry's TTL has ended at now.
func (e EntryInfo) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Sort orders of ListOptions.
const (
	SortKey  = ""     // by key
	SortAge  = "age"  // newest first, then by key
	SortTTL  = "ttl"  // soonest to expire first, then by key
	SortSize = "size" // largest first, then by key
	SortHits = "hits" // most hits first, then by key; only with CapHits
)

// DefaultListLimit is the page size of a List whose Limit is zero.
const DefaultListLimit = 100

// ListOptions selects a page of entries.
type ListOptions struct {
	// Cursor resumes a listing where the page that returned it as Next
	// ended; "" starts from the beginning. It is opaque, only valid for the
	// same Sort, and a malformed one makes List fail with ErrBadCursor.
	Cursor string
	// Limit is the number of entries a page aims at; default
	// DefaultListLimit. A store paging with a server-side cursor (Redis
	// SCAN) may return somewhat more: it never skips an entry to keep to it.
	Limit int
	// Sort is one of the Sort* orders. A store without CapSort ignores it
	// and lists in its own order (a Redis SCAN). Hits grow while a listing
	// runs: under SortHits an entry read between two pages may move across
	// the cursor and be listed twice or not at all.
	Sort string
	// Match, when set, keeps the entries it returns true for, given their
	// key, text (Entry.Text) and value alone: a store calls it before it
	// gathers what Filter is given, which costs more (the current stamps).
	// It must not retain or modify value, and must not call the store.
	Match func(key, text string, value []byte) bool
	// Filter, when set, keeps the entries it returns true for among those
	// Match kept. It is called with the store's lock-free view of the
	// entry: it must not retain or modify value, and must not call the
	// store.
	Filter func(info EntryInfo, value []byte) bool
	// Values asks for the value of each listed entry, in ListPage.Values.
	// A store that cannot return them leaves ListPage.Values nil.
	Values bool
	// Reverse lists in the opposite of Sort's order (by key: from the last
	// key to the first). A store without CapSort ignores it. A cursor is
	// only valid for the same Reverse.
	Reverse bool
}

// ListPage is one page of a listing.
type ListPage struct {
	Entries []EntryInfo
	// Next is the cursor of the following page, "" at the end. A store
	// that filters after reading a batch (a SCAN) may return a page with
	// fewer than Limit entries, even none, and a Next.
	Next string
	// Values holds the value of each of Entries, in the same order, when
	// ListOptions.Values was set. They may be the store's own: the caller
	// must not modify them.
	Values [][]byte
	// Count says, when the store can tell, how many entries the listing
	// selects; nil when it cannot.
	Count *ListCount
}

// ListCount is how many entries a listing selects (those its Filter keeps,
// at the time of the page), and where a page stands among them.
type ListCount struct {
	// Total is the number of entries selected.
	Total int
	// Before is the number of them listed before the page, -1 when unknown.
	Before int
	// Estimated says that Total (and Before) are extrapolated from the part
	// of the store the listing has read, as a SCAN-based store does.
	Estimated bool
}

// ErrBadCursor is wrapped by the error List returns for a cursor it did not
// make.
var ErrBadCursor = errors.New("store: malformed cursor")

// Lister is implemented by stores that can enumerate their entries. A
// listing is weakly consistent: entries stored or removed while it runs may
// or may not appear, and a store without CapSort may return an entry twice.
type Lister interface {
	List(ctx context.Context, opts ListOptions) (ListPage, error)
}

// Inspector is implemented by stores that can show one entry as it is,
// valid or not. Unlike Get it never removes the entry. The value is a copy.
type Inspector interface {
	Inspect(ctx context.Context, key string) (info EntryInfo, value []byte, ok bool, err error)
}

// Purger is implemented by stores that can remove their expired and invalid
// entries at once, rather than when they are next read or evicted.
type Purger interface {
	// Purge removes every entry that has expired or no longer validates,
	// and returns how many it removed.
	Purge(ctx context.Context) (removed int, err error)
}

// TTLSetter is implemented by stores that can change the time an entry has
// left.
type TTLSetter interface {
	// SetTTL makes the entry stored under key expire ttl from now, sooner
	// or later than it would have, and reports whether there was one. Its
	// value, dependencies and validity stay as they are. A ttl that is not
	// positive is an error wrapping ErrInvalidEntry.
	SetTTL(ctx context.Context, key string, ttl time.Duration) (ok bool, err error)
}

// Fact is something a store reports about itself, for people: "Eviction
// policy", "allkeys-lru".
type Fact struct {
	Name  string
	Value string
}

// Reporter is implemented by stores that report facts about themselves
// beyond Info: the server they run on, their capacity and what they
// evicted. Unlike Describe, which every listing asks, a report is for a page
// that shows the store: it may cost round trips and a bounded scan.
type Reporter interface {
	Report(ctx context.Context) ([]Fact, error)
}
