package memory

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unique"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/gormcache/gormcache/store"
)

// entryOverhead is the memory an entry holds besides its key and its value
// and checks: the entry struct, otter's node and its slot in otter's hash
// table. Measured with runtime.MemStats on amd64 (Go 1.26, otter 2.4; see
// TestBytesMeasureTheHeap).
const entryOverhead = 176

// Store is an in-process store.Store and store.Flusher. Its methods never
// block on I/O, ignore their context and never fail, except Set and SetTTL
// on invalid input, and List, which stops when its context is done.
type Store struct {
	entries *otter.Cache[string, *entry]
	// stamps holds the stamps of the deps that writes renewed. A dep
	// without one has the stamp of its floor (see floors).
	stamps *otter.Cache[store.Dep, store.Stamp]
	// floors are the stamps of the deps without a stamp of their own, one
	// per bucket of deps (by hash). Reading a dep never stores anything:
	// a cache of a million rows costs no stamp until a write renews one.
	// A floor changes when a stamp of its bucket is evicted (MaxStamps),
	// before the stamp leaves, so that a dep whose stamp is gone never
	// reads a floor an entry may have recorded before the write that gave
	// it that stamp; and at Flush.
	floors    []atomic.Uint64
	floorSeed maphash.Seed
	// texts holds the handles of recent Entry texts by hash (see
	// textHandle).
	texts [textSlots]atomic.Pointer[unique.Handle[string]]

	clock     Clock  // Config.Clock, or the system clock
	maxSize   uint64 // the size of the largest entry kept
	minWeight uint32 // MaxBytes/MaxEntries, see Config.MaxEntries

	// lastStamp is the stamp handed out last. Stamps and floors come from
	// this counter, so they never repeat, for any Dep, and that is why
	// evicting a stamp can only invalidate: the floor its Dep reads after
	// differs from every stamp an entry may have recorded. The counter
	// starts at a random value below 1<<63, not at 0, so that a restarted
	// process does not hand out the low numbers its predecessor did.
	lastStamp atomic.Uint64
	// generation counts the Invalidate and Flush calls that have renewed
	// their stamps. An entry whose stamps were all current at a generation
	// is still valid while the generation stays the same: no stamp was
	// renewed since. (A floor renewed by an eviction does not count: its
	// entries stay correct until a write, which calls Invalidate.)
	generation atomic.Uint64

	schemesMu sync.Mutex
	schemes   map[string]*registry // table -> its schemes, see schemes.go

	cfg     Config        // with its defaults, for Report
	evicted atomic.Uint64 // entries evicted for space, for Report

	// upkeep is what otter last handed to the Executor of the entries,
	// for the writes to run in turn (see wrote): its upkeep of their
	// eviction policy, which applies the writes made since.
	upkeep        atomic.Pointer[func()]
	writes        atomic.Uint32 // writes to the entries, counted by wrote
	pendingWeight atomic.Int64  // the weight Set stored since the upkeep last ran
	maxPending    int64         // pendingWeight that runs the upkeep at once
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Flusher = (*Store)(nil)
	_ store.Peeker  = (*Store)(nil)
)

// entry is a value with the stamps it must still see to be valid.
type entry struct {
	// value is the entry's value. The memory past its length, up to its
	// capacity, holds its checks (see appendChecks): one allocation for
	// both, sized to its size class, so that cap(value) is what it holds.
	value []byte
	// text is the entry's Entry.Text, one copy for every entry with the
	// same text (the zero Handle for none).
	text    unique.Handle[string]
	created int64 // unix nanoseconds by the store's clock, for List and Inspect
	expires int64 // likewise: when the last Set or SetTTL said otter should drop the entry
	// hits counts the Gets that returned the entry, for List and Inspect:
	// a hit costs one atomic add.
	hits atomic.Int64
	// validAt is the Store's generation before the last check that found
	// every stamp of the entry current (0: never checked).
	validAt atomic.Uint64
}

// newEntry returns an entry of a copy of e's value and its checks, with the
// handle of its text.
func newEntry(e store.Entry, text unique.Handle[string], ttl time.Duration, created int64) *entry {
	n := len(e.Value) + uvarintLen(len(e.Deps))
	for _, d := range e.Deps {
		n += uvarintLen(len(d.Table)) + len(d.Table) + uvarintLen(len(d.Cond)) + len(d.Cond) + 8
	}
	// append rounds the capacity up to the size class of the allocation.
	b := append([]byte(nil), make([]byte, n)...)[:0]
	b = append(b, e.Value...)
	appendChecks(b[len(b):], e.Deps, e.Stamps)
	return &entry{value: b, text: text, created: created, expires: created + int64(ttl)}
}

// textOf returns the Entry.Text e was stored with.
func (e *entry) textOf() string {
	if e.text == (unique.Handle[string]{}) {
		return ""
	}
	return e.text.Value()
}

// uvarintLen returns the length of n encoded by binary.AppendUvarint.
func uvarintLen(n int) int {
	return (bits.Len64(uint64(n)|1) + 6) / 7
}

// appendChecks appends the number of deps, then each dep and its stamp.
func appendChecks(b []byte, deps []store.Dep, stamps []store.Stamp) []byte {
	b = binary.AppendUvarint(b, uint64(len(deps)))
	for i, d := range deps {
		b = binary.AppendUvarint(b, uint64(len(d.Table)))
		b = append(b, d.Table...)
		b = binary.AppendUvarint(b, uint64(len(d.Cond)))
		b = append(b, d.Cond...)
		b = binary.LittleEndian.AppendUint64(b, uint64(stamps[i]))
	}
	return b
}

// checks yields the deps of e and the stamps they had before its value was
// computed. The deps' strings are e's memory, which is never modified.
func (e *entry) checks() iter.Seq2[store.Dep, store.Stamp] {
	return func(yield func(store.Dep, store.Stamp) bool) {
		b := e.value[len(e.value):cap(e.value)]
		n, k := binary.Uvarint(b)
		b = b[k:]
		str := func() string {
			l, k := binary.Uvarint(b)
			b = b[k:]
			if l == 0 {
				return ""
			}
			s := unsafe.String(&b[0], l)
			b = b[l:]
			return s
		}
		for range n {
			d := store.Dep{Table: str(), Cond: str()}
			st := store.Stamp(binary.LittleEndian.Uint64(b))
			b = b[8:]
			if !yield(d, st) {
				return
			}
		}
	}
}

// numChecks returns the number of deps of e.
func (e *entry) numChecks() int {
	n, _ := binary.Uvarint(e.value[len(e.value):cap(e.value)])
	return int(n)
}

// stampsPerFloor is the number of stamps MaxStamps allows per floor: an
// evicted stamp invalidates the entries that recorded the floor of its
// bucket, some stampsPerFloor/MaxStamps of those that recorded a floor.
const stampsPerFloor = 16

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
		floors:    make([]atomic.Uint64, floorsFor(cfg.MaxStamps)),
		floorSeed: maphash.MakeSeed(),
		cfg:       cfg,
		// The writes not yet upkept may take the entries past MaxBytes by
		// this much.
		maxPending: max(cfg.MaxBytes/upkeepSlack, 1),
	}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	var seed [8]byte
	rand.Read(seed[:]) // never fails
	s.lastStamp.Store(binary.LittleEndian.Uint64(seed[:]) >> 1)
	s.renewFloors()
	s.generation.Store(1)

	entryOpts := &otter.Options[string, *entry]{
		MaximumWeight: uint64(cfg.MaxBytes),
		Weigher: func(key string, e *entry) uint32 {
			return max(uint32(min(e.size(key), math.MaxUint32)), s.minWeight)
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *entry]) time.Duration {
			return time.Duration(e.Value.expires - s.clock.Now().UnixNano())
		}),
		Executor: s.deferUpkeep,
		// Atomic, so that otter hands the Executor no deletion notice.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *entry]) {
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
	stampOpts := &otter.Options[store.Dep, store.Stamp]{
		MaximumSize: cfg.MaxStamps,
		// Under the lock of the stamp's bucket, while readers still find
		// the stamp: they read the new floor once it is gone.
		OnAtomicDeletion: func(e otter.DeletionEvent[store.Dep, store.Stamp]) {
			if e.Cause == otter.CauseOverflow {
				s.floor(e.Key).Store(s.lastStamp.Add(1))
			}
		},
		Executor: runNow,
	}
	if s.stamps, err = otter.New(stampOpts); err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	return s, nil
}

// floorsFor returns the number of floors for maxStamps stamps: a power of
// two, at least 1024.
func floorsFor(maxStamps int) int {
	n := 1024
	for n < maxStamps/stampsPerFloor {
		n *= 2
	}
	return n
}

// floor returns the floor of d's bucket.
func (s *Store) floor(d store.Dep) *atomic.Uint64 {
	return &s.floors[maphash.Comparable(s.floorSeed, d)&uint64(len(s.floors)-1)]
}

// renewFloors gives every floor a stamp never handed out before.
func (s *Store) renewFloors() {
	for i := range s.floors {
		s.floors[i].Store(s.lastStamp.Add(1))
	}
}

// stamp returns the current stamp of d: its own, or its floor's.
func (s *Store) stamp(d store.Dep) store.Stamp {
	if st, ok := s.stamps.GetIfPresent(d); ok {
		return st
	}
	return store.Stamp(s.floor(d).Load())
}

// textSlots is the number of texts whose handles textHandle remembers: a
// power of two, more than the statements most applications run at once.
const textSlots = 256

// textHandle returns the unique.Handle of text (the zero Handle for ""),
// from s.texts when text is there. unique.Make finds an existing value
// through a weak pointer, which waits while the collector finishes marking
// and is shaded while it marks: in a cache miss it cost 2.6–6 µs on
// average (more than the rest of the insert), against about 50 ns for the
// hash and the comparison here. A text that shares a slot with another
// one only costs the call to unique.Make.
func (s *Store) textHandle(text string) unique.Handle[string] {
	if text == "" {
		return unique.Handle[string]{}
	}
	slot := &s.texts[maphash.String(s.floorSeed, text)&(textSlots-1)]
	if h := slot.Load(); h != nil && h.Value() == text {
		return *h
	}
	h := unique.Make(text)
	slot.Store(&h)
	return h
}

// runNow is the Executor of the store's stamps: it runs otter's upkeep
// (applying writes to the eviction policy) in the writing call. Otter's
// default starts a goroutine per write that finds the policy idle, and
// waking a processor for it costs a store that is written once per cache
// miss more than the upkeep itself.
func runNow(fn func()) { fn() }

// The upkeep of the entries runs in the writing call too, but once per
// upkeepWrites writes, or as soon as the entries they stored weigh
// MaxBytes/upkeepSlack: otter applies the writes buffered since its last
// upkeep at once, and running it for each cost a cache miss on SQLite 2–4%
// of an uncached read (paired, see BENCHMARKS.md). Between two upkeeps
// the entries may exceed MaxBytes, and MaxEntries, by that much; Len and
// Bytes run the upkeep first, and otter runs it every second whatever the
// writes.
const (
	upkeepWrites = 16
	upkeepSlack  = 64
)

// deferUpkeep is the Executor of the entries: it keeps fn for a write to
// run (see wrote). Otter hands it nothing but its upkeep (the store uses no
// loader and counts evictions in OnAtomicDeletion), and hands it over again
// only once an upkeep has run, so one slot holds what is due.
func (s *Store) deferUpkeep(fn func()) { s.upkeep.Store(&fn) }

// wrote counts a write to the entries that stored weight, and runs the
// upkeep when it is due.
func (s *Store) wrote(weight uint32) {
	n := s.writes.Add(1)
	if s.pendingWeight.Add(int64(weight)) >= s.maxPending || n%upkeepWrites == 0 {
		s.runUpkeep()
	}
}

// runUpkeep runs the upkeep otter handed to the entries' Executor, if one
// is due.
func (s *Store) runUpkeep() {
	s.pendingWeight.Store(0)
	if fn := s.upkeep.Swap(nil); fn != nil {
		(*fn)()
	}
}

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
	return e.ownValue(), true, nil
}

// ownValue returns e's value with no room to append to: appending to it
// must not write over the checks.
func (e *entry) ownValue() []byte {
	return e.value[:len(e.value):len(e.value)]
}

// remove deletes e from key unless a Set has replaced it since.
func (s *Store) remove(key string, e *entry) {
	s.entries.ComputeIfPresent(key, func(cur *entry) (*entry, otter.ComputeOp) {
		if cur != e {
			return cur, otter.CancelOp
		}
		return nil, otter.InvalidateOp
	})
	s.wrote(0)
}

// Stamps returns the current stamps of deps. It stores nothing: a dep that
// no write has renewed has the stamp of its floor, which concurrent calls
// agree on as they do on a stamp of its own.
func (s *Store) Stamps(_ context.Context, deps []store.Dep) ([]store.Stamp, error) {
	stamps := make([]store.Stamp, len(deps))
	for i, d := range deps {
		stamps[i] = s.stamp(d)
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
	n := newEntry(e, s.textHandle(e.Text), ttl, s.clock.Now().UnixNano())
	size := n.size(key)
	if uint64(size) > s.maxSize {
		s.entries.Invalidate(key)
		s.wrote(0)
		return nil
	}
	s.entries.Set(key, n)
	s.wrote(uint32(size))
	return nil
}

// Delete removes the entries stored under keys.
func (s *Store) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		s.entries.Invalidate(k)
		s.wrote(0)
	}
	return nil
}

// Invalidate gives each of deps a stamp never handed out before.
func (s *Store) Invalidate(_ context.Context, deps ...store.Dep) error {
	for _, d := range deps {
		s.stamps.Set(d, store.Stamp(s.lastStamp.Add(1)))
	}
	// After the renewals: a check that starts at the new generation sees
	// them.
	s.generation.Add(1)
	return nil
}

// Flush removes every entry and stamp. An entry stored during the Flush with
// stamps taken before it never validates.
func (s *Store) Flush(context.Context) error {
	// The floors first: a dep whose stamp is gone must not read a floor
	// from before.
	s.renewFloors()
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
	s.runUpkeep()
	return s.entries.EstimatedSize()
}

// Bytes returns the approximate weight of the entries, which Config.MaxBytes
// bounds: the size of each, but at least MaxBytes/MaxEntries.
func (s *Store) Bytes() int64 {
	s.runUpkeep()
	return int64(s.entries.WeightedSize())
}
