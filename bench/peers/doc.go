// Package peers compares gormcache with go-gorm/caches
// (github.com/go-gorm/caches/v4), the cache plugin of GORM's own GitHub
// organisation, and with no cache, on the statements and rows of the
// project's read benchmarks (package testdata/photos), on SQLite and on
// PostgreSQL. It is a module of its own so that the peer never becomes a
// dependency of the library. It holds benchmarks, a test that the plugins
// they compare return correct results in their workload
// (TestMixedFresh), and one of where the peer does not (TestPeerStaleness).
//
// BenchmarkRead measures hits, and misses on rows the plugin has never
// read, of First by primary key and Find of 100 rows; BenchmarkMemory the
// live heap each cached First result holds; BenchmarkMixed the root
// package's mixed read and write workload, with the hit ratios and the
// stale reads of each cache. BENCHMARKS.md ("Peers") has the commands and
// the figures.
//
// Each plugin is used as its README tells users to. gormcache:
// New(Config{CacheAll: true}) and its default memory store. go-gorm/caches:
// Config{Easer: true, Cacher: ...} as its Usage section shows, with the
// in-memory Cacher of its README's memory example (memoryCacher): results
// marshalled to JSON with caches.Query.Marshal, all of them dropped on
// every create, update and delete, which is how that plugin invalidates.
//
// Where ratios matter every iteration runs each variant back to back in a
// random order ("paired"), so that the machine's drift between runs, and
// the caches and garbage one variant leaves to the next, fall on all of
// them alike. Every read checks what it returned: ids and lengths in
// BenchmarkRead (photos.Query.Run), the whole result against the
// database's in BenchmarkMixed.
package peers
