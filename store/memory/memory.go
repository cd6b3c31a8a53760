package memory

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/gormcache/gormcache/store"
)

// Bookkeeping bytes, measured with runtime.MemStats on amd64 (Go 1.26,
// otter 2.4): per entry, the entry struct, otter's node and hash table slot;
// per dependency of an entry, its Dep and stamp, not counting the strings.
const (
	entryOverhead = 184
	depOverhead   = 40
)

// Store is an in-process store.Store and store.Flusher. Its methods never
// block on I/O, ignore their context and never fail, except Set and SetTTL
// on invalid input, and List, which stops when its context is done.
type Store struct {
	entries *otter.Cache[string, *entry]
	stamps  *otter.Cache[store.Dep, store.Stamp]

	clock     Clock  // Config.Clock, or the system clock
	maxSize   uint64 // the size of the largest entry kept
	minWeight uint32 // MaxBytes/MaxEntries, see Config.MaxEntries

	// lastStamp is the stamp handed out last. Stamps come from this
	// counter, so they never repeat, for any Dep, and that is why evicting
	// a stamp (MaxStamps) can only invalidate: the stamp created after it
	// differs from every stamp an entry may have recorded. The counter
	// starts at a random value below 1<<63, not at 0, so that a restarted
	// process does not hand out the low numbers its predecessor did.
	lastStamp atomic.Uint64
	// newStamp is the ComputeIfAbsent function of stamps, made once so
	// that Stamps does not allocate a closure per call.
	newStamp func() (store.Stamp, bool)
	// generation counts the Invalidate and Flush calls that have deleted
	// their stamps. An entry whose stamps were all current at a generation
	// is still valid while the generation stays the same: no stamp was
	// deleted since. (A stamp evicted by MaxStamps does not count: its
	// entries stay correct until a write, which calls Invalidate.)
	generation atomic.Uint64

	schemesMu sync.Mutex
	schemes   map[string]*registry // table -> its schemes, see schemes.go

	cfg     Config        // with its defaults, for Report
	evicted atomic.Uint64 // entries evicted for space, for Report
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Flusher = (*Store)(nil)
	_ store.Peeker  = (*Store)(nil)
)

// entry is a value with the stamps it must still see to be valid.
type entry struct {
	value   []byte
	checks  []check
	ttl     time.Duration // given to the last Set or SetTTL: otter expires the entry that long after it
	weight  uint32
	created int64 // unix nanoseconds by the store's clock, for List and Inspect
	expires int64 // likewise
	// hits counts the Gets that returned the entry, for List and Inspect:
	// a hit costs one atomic add.
	hits atomic.Int64
	// validAt is the Store's generation before the last check that found
	// every stamp of the entry current (0: never checked).
	validAt atomic.Uint64
}

// check is a dependency of an entry and the stamp it had before the
// entry's value was computed.
type check struct {
	dep   store.Dep
	stamp store.Stamp
}

// New returns a store configured by cfg, or an error prefixed "memory:" if a
// field of cfg is out of range.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		maxSize:   min(uint64(cfg.MaxBytes), math.MaxUint32),
		minWeight: uint32(cfg.minWeight()),
		schemes:   map[string]*registry{},
		clock:     cfg.Clock,
		cfg:       cfg,
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	var seed [8]byte
	rand.Read(seed[:]) // never fails
	s.lastStamp.Store(binary.LittleEndian.Uint64(seed[:]) >> 1)
	s.newStamp = func() (store.Stamp, bool) { return store.Stamp(s.lastStamp.Add(1)), false }
	s.generation.Store(1)

	entryOpts := &otter.Options[string, *entry]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher:       func(_ string, e *entry) uint32 { return e.weight },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry]) time.Duration {
			return e.Value.ttl
		}),
		Executor: runNow,
		OnDeletion: func(e otter.DeletionEvent[string, *entry]) {
			if e.Cause == otter.CauseOverflow {
				s.evicted.Add(1)
			}
		},
	}
	if cfg.Clock != nil {
		entryOpts.Clock = otterClock{cfg.Clock}
	}
	if s.entries, err = otter.New(entryOpts); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	if s.stamps, err = otter.New(&otter.Options[store.Dep, store.Stamp]{MaximumSize: cfg.MaxStamps, Executor: runNow}); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	return s, nil
}

// runNow is the Executor of the store's otter caches: it runs their
// maintenance (applying writes to the eviction policy) in the writing call.
// Otter's default starts a goroutine per write that finds the policy idle,
// and waking a processor for it costs a store that is written once per
// cache miss more than the maintenance itself.
func runNow(fn func()) { fn() }

// Get returns a copy of the value stored under key if it has not expired and
// every stamp recorded with it is still current. An entry found invalid is
// removed. The copy is Get's only allocation.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	value, ok, err := s.Peek(ctx, key)
	return bytes.Clone(value), ok, err
}

// Peek is Get without the copy, and without allocating: the value is the
// store's own and must not be modified. It implements store.Peeker.
func (s *Store) Peek(_ context.Context, key string) ([]byte, bool, error) {
	e, ok := s.entries.GetIfPresent(key)
	if !ok {
		return nil, false, nil
	}
	if !s.valid(e) {
		s.remove(key, e)
		return nil, false, nil
	}
	e.hits.Add(1)
	return e.value, true, nil
}

// remove deletes e from key unless a Set has replaced it since.
func (s *Store) remove(key string, e *entry) {
	s.entries.ComputeIfPresent(key, func(cur *entry) (*entry, otter.ComputeOp) {
		if cur != e {
			return cur, otter.CancelOp
		}
		return nil, otter.InvalidateOp
	})
}

// Stamps returns the current stamps of deps, creating those missing.
// Concurrent calls for one Dep agree on its stamp.
func (s *Store) Stamps(_ context.Context, deps []store.Dep) ([]store.Stamp, error) {
	stamps := make([]store.Stamp, len(deps))
	for i, d := range deps {
		stamps[i], _ = s.stamps.ComputeIfAbsent(d, s.newStamp)
	}
	return stamps, nil
}

// Set stores a copy of e under key for ttl. An entry larger than
// Config.MaxBytes is not kept: Set then only deletes key.
func (s *Store) Set(_ context.Context, key string, e store.Entry, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: TTL %v is not positive", store.ErrInvalidEntry, ttl)
	}
	if len(e.Deps) != len(e.Stamps) {
		return fmt.Errorf("%w: %d deps and %d stamps", store.ErrInvalidEntry, len(e.Deps), len(e.Stamps))
	}
	size := uint64(entryOverhead + len(key) + len(e.Value))
	checks := make([]check, len(e.Deps))
	for i, d := range e.Deps {
		checks[i] = check{dep: d, stamp: e.Stamps[i]}
		size += uint64(depOverhead + len(d.Table) + len(d.Cond))
	}
	if size > s.maxSize {
		s.entries.Invalidate(key)
		return nil
	}
	now := s.clock.Now().UnixNano()
	s.entries.Set(key, &entry{
		value:   bytes.Clone(e.Value),
		checks:  checks,
		ttl:     ttl,
		weight:  max(uint32(size), s.minWeight),
		created: now,
		expires: now + int64(ttl),
	})
	return nil
}

// Delete removes the entries stored under keys.
func (s *Store) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		s.entries.Invalidate(k)
	}
	return nil
}

// Invalidate deletes the stamps of deps; the next Stamps call creates new
// ones.
func (s *Store) Invalidate(_ context.Context, deps ...store.Dep) error {
	for _, d := range deps {
		s.stamps.Invalidate(d)
	}
	// After the deletions: a check that starts at the new generation sees
	// them.
	s.generation.Add(1)
	return nil
}

// Flush removes every entry and stamp. An entry stored during the Flush with
// stamps taken before it never validates.
func (s *Store) Flush(context.Context) error {
	s.stamps.InvalidateAll()
	s.generation.Add(1)
	s.entries.InvalidateAll()
	s.schemesMu.Lock()
	clear(s.schemes)
	s.schemesMu.Unlock()
	return nil
}

// Close stops the goroutine that expires entries in the background. The
// store still works afterwards: entries then expire when they are read or
// evicted.
func (s *Store) Close() error {
	s.entries.StopAllGoroutines()
	return nil
}

// Len returns the approximate number of entries, expired and invalid ones
// not yet removed included.
func (s *Store) Len() int {
	return s.entries.EstimatedSize()
}

// Bytes returns the approximate weight of the entries, which Config.MaxBytes
// bounds: the size of each, but at least MaxBytes/MaxEntries.
func (s *Store) Bytes() int64 {
	return int64(s.entries.WeightedSize())
}
