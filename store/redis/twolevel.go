package redis

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

// TwoLevel is a store.Store and store.Flusher that keeps a copy of the
// entries of a Store in process memory (a memory.Store), for hot read paths.
// A hit on the copy still validates the stamps in Redis, in one round trip
// that carries no value; a miss on the copy reads the Store and keeps a copy
// for the entry's remaining TTL. Set, Delete and Flush act on both levels;
// Stamps and Invalidate on the Store, which all processes share.
type TwoLevel struct {
	remote *Store
	local  *memory.Store
	// known, in a Near store, learns the stamps that reads of Redis find
	// current; nil otherwise.
	known *known
}

var (
	_ store.Store   = (*TwoLevel)(nil)
	_ store.Flusher = (*TwoLevel)(nil)
	_ store.Peeker  = (*TwoLevel)(nil)
)

// NewTwoLevel returns a two-level store over remote, with copies kept in a
// memory store configured by local (its MaxStamps is unused). It returns an
// error if local is out of range.
func NewTwoLevel(remote *Store, local memory.Config) (*TwoLevel, error) {
	if remote == nil {
		return nil, errors.New("gormcache: redis: nil Store")
	}
	l, err := memory.New(local)
	if err != nil {
		return nil, fmt.Errorf("gormcache: redis: %w", err)
	}
	return &TwoLevel{remote: remote, local: l}, nil
}

// Close releases the copies kept in memory. The remote Store is the
// caller's to close.
func (t *TwoLevel) Close() error { return t.local.Close() }

// Get returns the value stored under key if every stamp it was stored with
// is still current: from the copy in memory after one round trip that reads
// the stamps, else as Store.Get does.
func (t *TwoLevel) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, ok, err := t.Peek(ctx, key)
	return bytes.Clone(v), ok, err
}

// Peek is Get without the copy: it implements store.Peeker.
func (t *TwoLevel) Peek(ctx context.Context, key string) ([]byte, bool, error) {
	if t.remote.retry.degraded.Load() {
		return nil, false, nil
	}
	if b, ok, _ := t.local.Peek(ctx, key); ok {
		if checks, value, ok := decodeCopy(b); ok {
			g := t.known.begin()
			dials, trusted := t.remote.trusted(ctx)
			if !trusted {
				return nil, false, nil
			}
			vctx, cancel := t.remote.bounded(ctx)
			valid, err := t.remote.validate(vctx, checks)
			cancel()
			if err != nil {
				return nil, false, fmt.Errorf("gormcache: redis: get: %w", err)
			}
			if valid && t.remote.current(dials) {
				t.known.learn(g, checks)
				return value, true, nil
			}
		}
		// The copy is invalid, but Redis may hold a newer entry under key,
		// stored by another process.
		_ = t.local.Delete(ctx, key)
	}
	g := t.known.begin()
	f, ok, err := t.remote.fetch(ctx, key, true)
	if err != nil || !ok {
		return nil, false, err
	}
	t.known.learn(g, f.checks)
	if f.ttl > 0 {
		_ = t.local.Set(ctx, key, store.Entry{Value: encodeCopy(f.checks, f.value)}, f.ttl)
	}
	return f.value, true, nil
}

// Stamps is Store.Stamps.
func (t *TwoLevel) Stamps(ctx context.Context, deps []store.Dep) ([]store.Stamp, error) {
	return t.remote.Stamps(ctx, deps)
}

// Set stores e under key in both levels.
func (t *TwoLevel) Set(ctx context.Context, key string, e store.Entry, ttl time.Duration) error {
	checks, ok, err := t.remote.checksOf(e, ttl)
	if err != nil {
		return err
	}
	if !ok {
		return t.Delete(ctx, key)
	}
	_ = t.local.Set(ctx, key, store.Entry{Value: encodeCopy(checks, e.Value)}, ttl)
	return t.remote.set(ctx, key, e.Value, e.Text, checks, ttl)
}

// Delete removes the entries stored under keys from both levels.
func (t *TwoLevel) Delete(ctx context.Context, keys ...string) error {
	_ = t.local.Delete(ctx, keys...)
	return t.remote.Delete(ctx, keys...)
}

// Invalidate is Store.Invalidate: the copies validate against the same
// stamps.
func (t *TwoLevel) Invalidate(ctx context.Context, deps ...store.Dep) error {
	return t.remote.Invalidate(ctx, deps...)
}

// Flush is Store.Flush, and drops every copy.
func (t *TwoLevel) Flush(ctx context.Context) error {
	err := t.remote.Flush(ctx)
	_ = t.local.Flush(ctx)
	return err
}

// A copy is: the number n of checks; for each check the hash of its stamp
// key (keyHash) and its stamp, 8 bytes each (big endian); for each check the
// length of its stamp key and the key; then the value. The hashes and
// stamps come first, at fixed offsets, for Near's hits (known.vouch), which
// read nothing else but the value.

func encodeCopy(checks []check, value []byte) []byte {
	n := binary.MaxVarintLen64 + len(value)
	for _, c := range checks {
		n += 16 + binary.MaxVarintLen64 + len(c.key)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(checks)))
	for _, c := range checks {
		b = binary.BigEndian.AppendUint64(b, keyHash(c.key))
		b = binary.BigEndian.AppendUint64(b, uint64(c.stamp))
	}
	for _, c := range checks {
		b = binary.AppendUvarint(b, uint64(len(c.key)))
		b = append(b, c.key...)
	}
	return append(b, value...)
}

// copyStamps splits the copy b into its number of checks, their hashes and
// stamps (see stampAt), and the rest: the keys and the value.
func copyStamps(b []byte) (n int, stamps, rest []byte, ok bool) {
	u, w := binary.Uvarint(b)
	if w <= 0 || u > uint64(len(b)-w)/16 {
		return 0, nil, nil, false
	}
	n = int(u)
	return n, b[w : w+16*n], b[w+16*n:], true
}

// stampAt returns the hash and the stamp of check i of stamps.
func stampAt(stamps []byte, i int) (uint64, store.Stamp) {
	return binary.BigEndian.Uint64(stamps[16*i:]), store.Stamp(binary.BigEndian.Uint64(stamps[16*i+8:]))
}

// copyValue returns the value of a copy of n checks whose rest (after
// copyStamps) is rest: a slice of it.
func copyValue(n int, rest []byte) ([]byte, bool) {
	for range n {
		l, w := binary.Uvarint(rest)
		if w <= 0 || l > uint64(len(rest)-w) {
			return nil, false
		}
		rest = rest[w+int(l):]
	}
	return rest, true
}

// decodeCopy returns the checks and the value of a copy; the value is a
// slice of b.
func decodeCopy(b []byte) ([]check, []byte, bool) {
	n, stamps, rest, ok := copyStamps(b)
	if !ok {
		return nil, nil, false
	}
	checks := make([]check, n)
	for i := range checks {
		_, checks[i].stamp = stampAt(stamps, i)
		l, w := binary.Uvarint(rest)
		if w <= 0 || l > uint64(len(rest)-w) {
			return nil, nil, false
		}
		checks[i].key = string(rest[w : w+int(l)])
		rest = rest[w+int(l):]
	}
	return checks, rest, true
}
