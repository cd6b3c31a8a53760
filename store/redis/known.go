package redis

import (
	"sync"
	"sync/atomic"

	"github.com/gormcache/gormcache/store"
)

// known is what a Near store knows of the current stamps in Redis: for a
// stamp key (named by its keyHash), the stamp that a read of Redis found
// current and that no invalidation received since has renewed. A copy in
// memory whose every stamp is known current is valid without asking Redis,
// while the Near store's lease holds.
//
// A reading of stamps may race with an invalidation: the stamps it read
// before a write deleted them would be learned after the write's
// invalidation was applied, and vouch for a stale copy. So a reading takes
// the generation before it asks Redis (begin), and learn refuses what it
// read if an invalidation of one of its stamp keys was applied since, or a
// reset happened. An invalidation is applied only after the write deleted
// the stamps in Redis, so a reading that began after it was applied reads
// the new stamps.
type known struct {
	gen atomic.Uint64 // bumped by every invalidation applied and every reset

	mu sync.RWMutex
	// floor is the generation of the latest reset: readings that began
	// before it learn nothing.
	floor  uint64
	stamps map[uint64]store.Stamp
	// dropped holds, for the stamp keys invalidated since floor, the
	// generation of their latest invalidation.
	dropped map[uint64]uint64
	max     int // of stamps, and of dropped: beyond, both are reset
}

func newKnown(maxStamps int) *known {
	return &known{stamps: map[uint64]store.Stamp{}, dropped: map[uint64]uint64{}, max: maxStamps}
}

// keyHash names a stamp key in the invalidations Near stores publish and in
// known: 64 bits of FNV-1a, the same in every process. Two stamp keys with
// one hash only cost hits: invalidating one forgets the other, and a stamp
// learned for one vouches for no copy of the other (their stamps differ).
func keyHash(key string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime
	}
	return h
}

// begin returns the generation to pass to learn for a reading of Redis
// that starts now. A nil known (a TwoLevel store's) learns nothing.
func (k *known) begin() uint64 {
	if k == nil {
		return 0
	}
	return k.gen.Load()
}

// learn records that the stamps of checks, read by a reading that began at
// generation g, are current, unless an invalidation of one of them, or a
// reset, was applied since g.
func (k *known) learn(g uint64, checks []check) {
	if k == nil || len(checks) == 0 {
		return
	}
	hashes := make([]uint64, len(checks))
	for i, c := range checks {
		hashes[i] = keyHash(c.key)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if g < k.floor {
		return
	}
	for _, h := range hashes {
		if k.dropped[h] > g {
			return
		}
	}
	if len(k.stamps)+len(checks) > k.max {
		k.clear()
	}
	for i, h := range hashes {
		k.stamps[h] = checks[i].stamp
	}
}

// drop forgets the stamps of the stamp keys hashes: an invalidation of
// theirs was applied.
func (k *known) drop(hashes []uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	g := k.gen.Add(1)
	if len(k.dropped)+len(hashes) > k.max {
		k.clear()
	}
	for _, h := range hashes {
		delete(k.stamps, h)
		k.dropped[h] = g
	}
}

// reset forgets every stamp, and every reading begun before.
func (k *known) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen.Add(1)
	k.clear()
}

// clear empties both maps and refuses the readings begun before. k.mu must
// be held.
func (k *known) clear() {
	k.floor = k.gen.Load()
	clear(k.stamps)
	clear(k.dropped)
}

// vouch returns the value of the copy b (see encodeCopy) if every stamp it
// recorded is known current. It does not allocate.
func (k *known) vouch(b []byte) ([]byte, bool) {
	n, stamps, rest, ok := copyStamps(b)
	if !ok {
		return nil, false
	}
	k.mu.RLock()
	for i := range n {
		h, st := stampAt(stamps, i)
		if cur, ok := k.stamps[h]; !ok || cur != st {
			k.mu.RUnlock()
			return nil, false
		}
	}
	k.mu.RUnlock()
	return copyValue(n, rest)
}
