// Package admin serves pages and a JSON API to see and manage what a
// gormcache Plugin has cached: the store, its entries (searched, filtered,
// sorted, paged), each entry's SQL, rows and dependencies, and actions to
// delete an entry, invalidate a model or table, purge expired and invalid
// entries and flush the store.
//
// Mount it under any prefix; every link is relative to the mount point:
//
//	h := admin.New(admin.Config{
//		Plugin:    cache,
//		Authorize: func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && check(u, p) },
//		Realm:     "gormcache",
//		Models:    []any{&Post{}, &Author{}},
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
// store.Flusher): what a store cannot do answers 501. The plugin's counters
// are shown overall; it keeps none per table.
//
// # JSON API
//
// Under api/, answers are JSON; errors are {"error": "..."} with status 400
// (bad input), 403 (not authorized, read-only, cross-origin), 404 (no such
// entry), 501 (not supported by the store) or 502 (the store failed).
//
//	GET  api/store     the store: kind, location, prefix, default_ttl,
//	                   capabilities, entries, bytes, stats (hits, misses,
//	                   fills, invalidated, bypassed, errors, hit_ratio), tables
//	GET  api/entries   a page of entries: {query, entries, next, sorted}.
//	                   Parameters: q (a glob on key or SQL: * ? [a-z] \),
//	                   table, state (valid, invalid, expired), sort (key, age,
//	                   ttl, size), limit (1 to MaxPageSize), cursor (next of
//	                   the previous page, with the same parameters)
//	GET  api/entry     ?key=K: one entry with its deps (stamp, current,
//	                   valid) and content (kind, SQL, Columns, Rows, Text)
//	POST api/delete     key=K
//	POST api/invalidate model=T (a Go type of Config.Models, "*main.Post") or table=NAME
//	POST api/purge
//	POST api/flush
//
// POST parameters are form-encoded. A successful action answers
// {"message": "..."}. The pages' forms post to the same names without api/,
// first answering with a confirmation page, then, with confirm=yes, doing it.
package admin
