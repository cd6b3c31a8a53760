// Package memory is gormcache's in-process store, the default one. It keeps
// entries and dependency stamps in two caches of otter
// (github.com/maypok86/otter/v2), which are safe for concurrent use, evict by
// frequency and recency (W-TinyLFU), and expire entries in time.
//
// # What the operations cost
//
// Get is a lookup of the entry, a lookup of the stamp of each of its
// dependencies (skipped when no Invalidate or Flush has completed since the
// entry was last found valid: the store counts them), one atomic add to the
// entry's hit count (which List and Inspect report, and List sorts by), and
// one copy of the value, its only allocation; the caller owns the copy. Peek (store.Peeker) is Get without
// the copy, allocating nothing, for callers that never modify what they
// read. Set copies the value and the dependencies into one allocation, so
// the caller may reuse its slices, and keeps one copy of each distinct
// Entry.Text for every entry that has it (unique.Make: the SQL of a
// statement, shared by all its results). Stamps allocates the slice it returns
// and stores nothing: a dependency that no write has renewed has the stamp
// of its floor, one of a fixed array of stamps shared by hash, so a cache
// of a million rows keeps no stamp for them. Invalidate stores a new stamp
// per dependency, Delete removes one entry per key, whatever the number of
// entries. Writes also run otter's upkeep of
// its eviction policy in the calling goroutine (otter's default is a new
// goroutine per write, which costs a store written once per cache miss
// more): for the entries, one write in 16 runs it for the writes before it,
// or the first that brings those to 1/64 of MaxBytes. No operation waits
// for I/O.
//
// # What the options cost
//
// MaxBytes and MaxEntries are kept by one cache weighted in bytes, whose
// total weight stays under MaxBytes, give or take the writes of the last
// upkeep (at most 1/64 of MaxBytes, or of MaxEntries, more; Len and Bytes
// run the upkeep before they answer). An entry weighs the heap it holds (key,
// value, dependencies and 176 bytes of bookkeeping, measured; not its
// text, which entries share; within a few
// percent of what runtime.MemStats sees) but at least MaxBytes/MaxEntries, so
// the cache holds at most MaxEntries entries once upkept, and large entries are
// bounded by their real size. The price of one cache for two bounds: with
// entries smaller than MaxBytes/MaxEntries, the store is full before it
// holds MaxBytes. With the defaults (64 MiB, 1,000,000 entries) that floor
// is 68 bytes, below any entry the plugin stores. An entry larger than
// MaxBytes is not kept.
//
// MaxStamps bounds the stamps that writes store, which are not counted in
// MaxBytes: each costs about 100 bytes with the strings of its Dep, so the
// default (1,000,000) allows for some 100 MiB, reached only by writes to a
// million distinct rows that cached reads depend on. The floors cost 8 bytes
// per 16 of MaxStamps (512 KiB by default). An evicted stamp only costs
// hits: before it goes, its floor is renewed, so the entries that recorded
// it, and those that recorded the floor for another dependency of the same
// bucket, no longer validate (from the next invalidation of anything on:
// until then nothing they read has changed). A MaxStamps too small for the
// writes in use therefore shows as misses, never as stale reads.
//
// Entries expire their TTL after their latest Set, by Config.Clock.
// Expired entries are never returned; otter removes them during writes and
// about once a second, so they hold memory only until then.
package memory
