// Package gormcache is a GORM v2 plugin that caches query results and keeps
// them fresh.
//
//	cache := gormcache.New(gormcache.Config{TTL: 10 * time.Minute})
//	if err := db.Use(cache); err != nil { ... }
//	db.Clauses(gormcache.Cache()).Where("user_id = ?", id).Find(&photos)
//
// # How it works
//
// A query opts in with [Cache] (or [TTL]), through its model's
// [Policier.CachePolicy], or through [Config.CacheAll] or [Config.CacheGet].
// Its built SQL and vars are hashed into a key; the rows the driver returned
// are stored under it, together with the dependencies they were read from —
// for each table the SQL reads, the equality conjunctions its rows must
// satisfy to matter (package deps; equal as each column's type and
// collation compare, read from the database's catalogue), or any row when
// nothing narrower can be proven — and the stamps those dependencies had
// before the database was read. A hit replays the stored rows through database/sql and gorm.Scan,
// so it decodes exactly as a database read, hooks and preloads included; a
// later hit on the same stored value copies what that decoding produced
// ([Config.ResultMemory]) instead of decoding again. Every write GORM
// performs — create, update, delete, upsert, association changes, raw Exec —
// renews the stamps of the rows it changed (their values before and after,
// read inside its transaction, or on MySQL taken from an update's SET
// clause where it tells them) right after the transaction commits; an entry
// whose stamps are no longer current is never served. [Config.Precision]
// switches to table-level invalidation.
//
// The promise: a cached read never returns data older than the last write
// that went through GORM and whose call returned before the read began.
// Reads inside a transaction bypass the cache, and so do reads whose result
// changes without a write (system catalogues, now(), nextval()). What a
// write changes through the database's foreign keys, views and triggers is
// read from its catalogue and invalidated with it. Writes GORM does not see
// (another program, a stored function) are invisible to it: bound them with a TTL, or tell the plugin with [InvalidateObject],
// [InvalidateModel], [InvalidateTable] or [InvalidateAll]. With read replicas
// (gorm.io/plugin/dbresolver), misses read the source, so cached reads are as
// fresh as the primary.
//
// [Remember] caches what is not one query — a report, an aggregate, a call
// to another service — under a [Key], with the same protocol: [DependsOn] and
// [DependsOnRows] name the rows it was computed from, and a write to them
// makes the next call compute it again, once, however many callers ask at
// that moment.
//
// # Request scopes
//
// With the Redis store every hit is a round trip, and a request often runs
// the same queries several times (the current user, its settings, a lookup
// table). [WithRequestScope] (or the [RequestScopeHandler] middleware)
// puts a request scope in a context: within it, a statement answered once,
// by the store or the database, is answered again from the scope's memory,
// with no store call, and so is a [Remember] call. Within a scope a read
// returns what the first answer to its statement returned — a
// repeatable-read snapshot of the cached answers — except that every
// invalidation the plugin delivers in this process, from any request,
// drops from every scope the answers it changes before the write's call
// returns: a request always reads its own writes, and the writes of the
// other requests of the process. What a scope trades: the writes of other
// processes sharing the store reach it only when it ends. Reads inside a
// transaction bypass it, callers never share what it hands out (it is
// decoded or copied as a hit is), and [Config.ScopeMemory] bounds what it
// keeps. Worth it with Redis and many repeats per request; with the memory
// store a hit costs about what a scope's does.
//
// # Traces and logs
//
// With gorm.io/plugin/opentelemetry registered, the span of each cacheable
// query carries gormcache.cache (hit, miss or bypass), gormcache.bypass_reason
// (context_ended, no_cache, transaction, locking, closed, no_key,
// uncacheable, unreplayable, shared_read), gormcache.key and, on a hit,
// gormcache.entry.age_ms, how old the rows it served are, and
// gormcache.request_scope, whether a request scope served them. A write's invalidation is a span
// gormcache.invalidate (the stamps renewed, the tables), under the write's
// span or, after a commit, under the span of the transaction's first write.
// The plugin uses the OpenTelemetry API only (trace.go). GORM's logger logs a
// hit as any query, with its SQL, rows and the time it took, the SQL ending
// with /* gormcache: hit */ (/* gormcache: scope hit */ for a request
// scope's).
//
// # The house
//
// This package is the plugin and everything an application calls: [New] and
// [Config], the per-query options, the model [Policy], the Invalidate
// functions, [Remember], [WithRequestScope], [Plugin.Stats] and
// [Plugin.TableStats]. The other
// public packages are what a user may hold or implement: store (the [store.Store]
// contract, with store/memory, the default, and store/redis), deps (what an
// entry depends on, to inspect it), invalidation (what a write invalidated
// and why, reported to [Config.OnInvalidate]), querykey (how a statement
// becomes a key), admin (the admin pages) and metrics (a Prometheus
// collector). What no user should import is under internal/: the SQL
// analyser, dependency extraction, how databases compare columns, row recording
// and replay, reading the rows a write changes, running work after a
// commit, and sharing one read among concurrent misses.
//
// A read goes: GORM's query callback, replaced by the plugin's, gathers the
// statement's facts and decides its route (query.go): GORM's own callback
// for what is not cached, or the key; the request scope's answer, if it
// keeps one (scope.go); the store's entry on a hit, replayed or copied; on
// a miss, the dependencies and their stamps, one database
// read shared by concurrent misses, the result stored (query.go, depset.go,
// decoded.go).
//
// A write goes: GORM's write callbacks, followed by the plugin's (write.go),
// which read the rows an update or delete changes inside its transaction,
// and queue a change — rows before and after, or the tables written — on
// the transaction; right after the commit the changes are resolved against
// the schemes registered then and the cascading foreign keys, and renewed in
// one store call and then in request scopes (deliver.go, cascades.go,
// scope.go).
package gormcache
