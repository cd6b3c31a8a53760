// Package admin serves pages and a JSON API to see and manage what a
// gormcache Plugin has cached: the store and the plugin's counters, overall
// and per table; the entries (searched, filtered, sorted, paged); each
// entry's SQL, rows and dependencies; and actions to delete entries,
// invalidate a model, a table or one object by its primary key, purge
// expired and invalid entries and flush the store.
//
// Mount it under any prefix; every link is relative to the mount point:
//
//	h := admin.New(admin.Config{
//		Plugin:    cache,
//		Authorize: func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && check(u, p) },
//		Realm:     "gormcache",
//		Models:    []any{&Post{}, &Author{}},
//		DB:        db, // for "invalidate object"
//	})
//	mux.Handle("/cache/", http.StripPrefix("/cache", h))
//
// Access is closed by default: without Config.Authorize every request gets
// 403. Mutations are POST only, behind http.CrossOriginProtection, and
// refused with 403 under Config.ReadOnly. Every answer carries
// X-Content-Type-Options: nosniff, a Content-Security-Policy that allows no
// script and Cache-Control: no-store.
//
// What the pages show depends on the store's optional capabilities
// (store.Lister, store.Inspector, store.Describer, store.Purger,
// store.Flusher): what a store cannot do answers 501. The hits of each
// entry are shown, and sorted by, only for a store that counts them
// (store.CapHits: the memory store, not Redis). The plugin's counters are
// shown overall and per table (gormcache.Plugin.TableStats): a query counts
// for its main table, an invalidation for the table of each stamp it
// renewed.
//
// # JSON API
//
// Under api/, answers are JSON; errors are {"error": "..."} with status 400
// (bad input), 403 (not authorized, read-only, cross-origin), 404 (no such
// entry), 501 (not supported by the store, or invalidate-object without
// Config.DB) or 502 (the store or the database failed).
//
//	GET  api/store     the store: kind, location, prefix, default_ttl,
//	                   capabilities, entries, bytes, stats (hits, misses,
//	                   fills, invalidated, bypassed, errors, hit_ratio),
//	                   table_stats (a list of table, hits, misses, fills,
//	                   invalidated, hit_ratio, by table), tables
//	GET  api/entries   a page of entries: {query, entries, next, sorted}.
//	                   Parameters: q (a glob on key or SQL: * ? [a-z] \),
//	                   table, state (valid, invalid, expired), sort (key, age,
//	                   ttl, size, or hits where the store counts them; 400
//	                   elsewhere), limit (1 to MaxPageSize), cursor (next of
//	                   the previous page, with the same parameters). Each
//	                   entry's hits is -1 where the store does not count them
//	GET  api/entry     ?key=K: one entry with its hits, deps (stamp, current,
//	                   valid) and content (kind, SQL, Columns, Rows, Text)
//	POST api/delete    key=K, repeated for several entries (at most
//	                   MaxPageSize); keys without an entry are skipped, 404
//	                   when none has one
//	POST api/invalidate
//	                   model=T (a Go type of Config.Models, "*main.Post") or
//	                   table=NAME
//	POST api/invalidate-object
//	                   model=T and its primary key: pk=V for a key of one
//	                   column, or pk.<column>=V for each column
//	                   (pk.post_id=1&pk.name=go); the values are converted
//	                   to the fields' types by GORM. Needs Config.DB
//	POST api/purge
//	POST api/flush
//
// POST parameters are form-encoded. A successful action answers
// {"message": "..."}, with "removed": N, the number of entries removed,
// for delete and purge. The pages' forms post to the same names without
// api/, first answering with a confirmation page, then, with confirm=yes,
// doing it; the entry browser deletes the entries ticked on its page.
package admin
