// Package admin serves pages and a JSON API to see and manage what a
// gormcache Plugin has cached: the store, what it reports of itself, and
// the plugin's counters, overall and per table; the entries (searched,
// filtered, counted, sorted either way, paged back and forth); each entry's
// SQL, rows and dependencies; and actions to delete entries (ticked, or
// every one a search selects), change an entry's TTL, invalidate a model,
// a table or one object by its primary key, purge expired and invalid
// entries and flush the store. Values are never edited: a query result
// edited by hand would no longer be what the database returns.
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
// 403. Only the stylesheet (static/) is served to anyone, so that the pages
// that refuse a request are styled; they link to nothing refused too.
// Mutations are POST only, behind http.CrossOriginProtection, and refused
// with 403 under Config.ReadOnly, whose pages show neither the actions nor
// their help. A path asked with another method answers 405 with Allow.
// Every answer carries X-Content-Type-Options: nosniff, a
// Content-Security-Policy that allows no script and Cache-Control:
// no-store.
//
// What the pages show depends on the store's optional capabilities
// (store.Lister, store.Inspector, store.Describer, store.Reporter,
// store.TTLSetter, store.Purger, store.Flusher): what a store cannot do
// answers 501. The hits of each entry are shown, and sorted by, only for a
// store that counts them (store.CapHits: the memory store, not Redis); the
// number of entries a listing selects is exact on the memory store and an
// estimate on Redis, said so. The plugin's counters are shown overall and
// per table (gormcache.Plugin.TableStats): a query counts for its main
// table, an invalidation for the table of each stamp it renewed.
//
// # Searching
//
// The search (q) matches the key or the SQL of an entry, with the vars
// inlined, and is case-sensitive. A plain word, without *, ? or [, is
// found anywhere (published finds "WHERE published = true"); a glob
// matches the whole text: * any text, ? one character, [abc] and [a-z]
// one of a set ([^abc] none of it), \ quotes the next character. A pattern
// is at most store.MaxGlobLen (256) bytes, and costs time linear in the
// text it is matched with. On the memory store a search walks every
// entry: about 75 ms for 100,000 on a quiet 2-vCPU machine, twice that on
// a busy one; on Redis a page makes at most 10 SCAN calls, about 9 ms
// (BENCHMARKS.md). A listing stops when its request is cancelled.
//
// # Naming entries
//
// A key may hold any bytes (a Remember key with a newline, bytes that are
// not UTF-8). URLs, forms and the API name an entry by its id, the
// base64url of its key without padding (see ID), which round-trips every
// key; key=K, the key as text, is accepted too. The JSON gives both: id
// and key (the key as text, U+FFFD for each byte that is not UTF-8); the
// pages show a key as it is, or quoted when it is not printable text.
//
// # JSON API
//
// Under api/, answers are JSON with snake_case names; errors are
// {"error": "..."} with status 400 (bad input, a malformed percent-escape
// included), 403 (not authorized, read-only, cross-origin), 404 (no such
// entry, or row), 405 (another method), 413 (a form over 1 MiB), 501 (not
// supported by the store, or invalidate-object without Config.DB) or 502
// (the store or the database failed). An error repeats at most 120 bytes
// of any input. Times are RFC 3339 with their zone; durations are text
// ("59m58s") and also milliseconds (ttl_ms); stamps are strings, for they
// exceed 2^53.
//
//	GET api/store
//		The store and the plugin's counters:
//		{"kind": "memory", "location": "process memory", "prefix": "",
//		 "default_ttl": "10m0s", "default_ttl_ms": 600000,
//		 "capabilities": ["list", "sort", ...], "entries": 3, "bytes": 2048,
//		 "facts": [{"name": "Memory used", "value": "0.1 MiB of 64.0 MiB (MaxBytes), 0%"}, ...],
//		 "stats": {"hits": 3, "scope_hits": 1, "misses": 3, "fills": 3, "invalidated": 7,
//		           "bypassed": 0, "errors": 0, "hit_ratio": 0.5},
//		 "table_stats": [{"table": "posts", "hits": 3, "misses": 1, "fills": 1,
//		                  "invalidated": 2, "hit_ratio": 0.75}, ...],
//		 "tables": ["authors", "posts"], "read_only": false}
//
//	GET api/entries?q=published&table=posts&state=valid&sort=age&dir=asc&limit=50&cursor=C
//		A page of entries. Every parameter is optional: q (see Searching),
//		table (entries that read it), state (valid or invalid; stores
//		remove an entry when its TTL ends, so none is listed expired),
//		sort (key, age, ttl, size, or hits where the store counts them),
//		dir (asc or desc; by default keys A to Z, the newest, the soonest
//		to expire, the largest and the most read first), limit (1 to
//		MaxPageSize), cursor (next of the previous page, with the same
//		sort and dir):
//		{"query": {...}, "glob": "*published*",
//		 "entries": [{"id": "cG9zdHM", "key": "posts", "kind": "query",
//		   "sql": "SELECT * FROM `posts` WHERE published = true",
//		   "tables": ["posts"], "size": 491,
//		   "created": "2026-01-02T15:04:05+01:00", "expires": "...",
//		   "ttl": "9m58s", "ttl_ms": 598000, "age": "2s", "age_ms": 2000,
//		   "state": "valid", "hits": 3}, ...],
//		 "next": "C2", "total": 1234, "total_estimated": false, "before": 50,
//		 "sorted": true}
//		hits is -1 where the store does not count them; created and age_ms
//		are null where it does not know them (Redis); total and before are
//		-1 when unknown.
//
//	GET api/entry?id=ID
//		One entry, with its dependencies and its decoded value:
//		{..., "deps": [{"table": "posts", "cond": "published=b1",
//		   "stamp": "8046158398411361302", "current": "8046158398411361302",
//		   "valid": true, "note": "the rows of posts where published = true"}],
//		 "content": {"kind": "query", "sql": "...", "columns": ["id", "title"],
//		   "rows": [["1", "Hello"]]}}
//		A Remember value has "content": {"kind": "value", "text": "..."}.
//
//	POST api/delete           id=ID&id=ID2 (at most MaxPageSize)
//		{"message": "Deleted 2 entries.", "removed": 2}; ids without an
//		entry are skipped, 404 when none has one.
//	POST api/delete-matching  q=published&table=posts&state=valid
//		Deletes every entry the filters select (no filter: every entry),
//		in batches: {"message": "...", "removed": 1234}; 404 when none.
//	POST api/ttl              id=ID&ttl=10m (or seconds, ttl=600)
//		Makes the entry expire ttl from now (1s to 366 days), its value and
//		validity unchanged: {"message": "...", "expires": "..."}.
//	POST api/invalidate       model=*main.Post, or table=posts
//		{"message": "Invalidated the 12 entries that read \"posts\", ..."}
//	POST api/invalidate-object model=*main.Post&pk=7
//		A key of several columns gives pk.<column> for each
//		(pk.post_id=1&pk.name=go); integers are decimal (0x10 is refused),
//		converted to the fields' types by GORM. 404 when no row has that
//		key. Needs Config.DB.
//	POST api/purge
//		{"message": "Purged 3 entries ...", "removed": 3}
//	POST api/flush
//		{"message": "Flushed the store: 1234 entries and their stamps are gone."}
//
// POST parameters are form-encoded. The pages' forms post to the same names
// without api/, first answering with a confirmation page that lists the
// SQL of what will be deleted, then, with confirm=yes, doing it; a form's
// back (a link to the entry browser or an entry) is where Cancel and the
// result lead, with the filters it had.
package admin
