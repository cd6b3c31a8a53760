// Package gormcache is a GORM v2 plugin that caches query results and keeps
// them fresh.
//
// A query opts in with db.Clauses(gormcache.Cache()) (or through a model's
// CachePolicy, or Config.CacheAll / CacheGet). Its built SQL and vars are
// hashed into a key; the rows the driver returned are stored under it,
// together with the dependencies they were read from — for each table the
// SQL reads, the equality conjunctions its rows must satisfy to matter
// (package deps), or any row when nothing narrower can be proven — and the
// stamps those dependencies had before the database was read. A hit replays
// the stored rows through database/sql and gorm.Scan, so it decodes exactly
// as a database read, hooks and preloads included; a later hit on the same
// stored value copies what that decoding produced (Config.ResultMemory)
// instead of decoding again. Every
// write GORM performs — create, update, delete, upsert, association changes,
// raw Exec — renews the stamps of the rows it changed (their values before
// and after, read inside its transaction) right after the transaction
// commits; an entry whose stamps are no longer current is never served.
// Config.Precision switches to table-level invalidation.
//
// The promise: a cached read never returns data older than the last write
// that went through GORM and whose call returned before the read began.
// Reads inside a transaction bypass the cache, and so do reads whose result
// changes without a write (system catalogues, now(), nextval()). Writes GORM
// does not see (another program, a trigger, a stored function) are invisible
// to it: bound them with a TTL. With read replicas (dbresolver), misses read
// the source, so cached reads are as fresh as the primary.
//
// Remember caches what is not one query — a report, an aggregate, a call to
// another service — under a key, with the same protocol: DependsOn and Where
// name the rows it was computed from, and a write to them makes the next
// call compute it again, once, however many callers ask at that moment.
//
//	p := gormcache.New(gormcache.Config{TTL: 10 * time.Minute})
//	if err := db.Use(p); err != nil { ... }
//	db.Clauses(gormcache.Cache()).Where("user_id = ?", id).Find(&photos)
package gormcache
