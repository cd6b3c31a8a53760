// Package redis is gormcache's shared store: entries and dependency stamps
// in Redis (github.com/redis/go-redis/v9), so that every instance of an
// application sees the others' cached results and invalidations. It works
// with a single node, Sentinel (failover) and Cluster clients, on Redis 6 or
// later (tested with 7.0); the client must set ContextTimeoutEnabled, which
// bounds every call by Config.Timeout, and must read from masters only.
//
//	rdb := goredis.NewUniversalClient(&goredis.UniversalOptions{
//		Addrs:                 []string{"10.0.0.1:6379"},
//		ContextTimeoutEnabled: true,
//	})
//	s, err := redis.New(rdb, redis.Config{})
//	...
//	db.Use(gormcache.New(gormcache.Config{Store: s}))
//
// # Freshness
//
// Stamps are hashes in Redis holding a raw value, taken from a counter of
// the process that created it, which starts at a random point below 1<<63:
// a process never hands out a value twice, and two practically never do.
// Invalidate deletes stamps, and the next Stamps call creates new ones. All stamps of one table share a hash tag (see the key layout in
// keys.go), so the scripts that create them run on Redis Cluster.
//
// Besides its dependencies, every entry that has some depends on the epoch,
// a key like a stamp that only the store renews (see Faults). The stamps Stamps hands out
// say so: each is the first 64 bits of SHA-1(raw ":" epoch), so a renewed
// epoch changes every stamp at once, including the ones a reader took
// before a write whose invalidation was lost and stores after it. An entry
// records these stamps; Get recomputes them from the current raw values and
// epoch, and returns the entry only if all match.
//
// # What the operations cost
//
// Round trips to Redis, each bounded by Config.Timeout:
//
//	                 single node              Cluster
//	Get              1 (getScript)            2 (HGETALL; the stamps, one HGET each, pipelined),
//	                                          1 when there is no entry
//	Stamps           1 (one script call)      1 (one script call per table, pipelined)
//	Set              1 (MULTI DEL HSET PEXPIRE EXEC)
//	Delete           1                        1 (pipelined per key)
//	Invalidate       1 (DEL)                  1 (one DEL per table, pipelined)
//	AddSchemes       1 (one script call)      1
//	Schemes          1 (HKEYS)                1
//	Inspect          2                        2
//	List             3 per page (SCAN, the entries, their stamps)
//
// Flush and Purge scan every key of every master, a batch at a time. A
// Cluster client sends a pipeline to all the nodes involved at once, so
// it costs one round trip however many nodes it reaches. Through the
// plugin, a hit costs a Get; a miss a Get, a Stamps and a Set, plus an
// AddSchemes per table read with row-level dependencies; a write an
// Invalidate, plus a Schemes per table written.
//
// The single-node Get is one script that reads the entry, the epoch and the
// entry's stamps, and returns the value only if the entry is valid. It reads
// keys it is not given, which Redis Cluster forbids across slots, so a
// Cluster Get reads the entry, then validates its stamps in Go.
//
// # Two levels
//
// TwoLevel keeps a copy of each entry in process memory (a memory.Store)
// and validates it on each hit against the stamps in Redis: one round trip
// that carries no value, as on a single node as on a Cluster. It pays when
// values are large or their transfer slow. A copy outlives a Delete from
// another process until it expires, but it is never served once its stamps
// changed. Flush, which renews the epoch, invalidates all copies everywhere.
//
// # Faults
//
// Every call is bounded by Config.Timeout and returns Redis errors: the
// plugin counts them, logs them at most once every few seconds and answers
// from the database. A Redis that does not answer costs each call its
// Timeout; one that refuses connections fails fast once go-redis has seen
// as many dial errors as its pool holds connections.
//
// A write's invalidation (Invalidate) that Redis does not take is tried
// again every 10 ms until Config.WriteWait (three Timeouts by default) has
// passed: the write's call returns only then, so while Redis is out for
// less than that, no instance can serve what the write changed once Redis
// answers. Then it is queued, up to Config.RetryQueue stamps, for a retrier
// that tries every 10 ms, and delivers within that once Redis answers. Until
// every queued invalidation is delivered, the store misses on every Get
// without asking Redis. An invalidation that cannot be delivered within
// Config.RetryFor, or that the full queue cannot take, is dropped; the store
// then renews the epoch as soon as Redis answers, and misses until it has.
// Renewing the epoch invalidates every entry of every process that uses the
// store's prefix. Drops and renewals are logged through Config.Logf.
//
// Other instances learn of an outage from their own calls: a store whose
// calls have failed for as long as WriteWait (a writer may have given up
// waiting) renews the epoch before it trusts a hit again. Hits are checked
// with a script, which CLIENT PAUSE WRITE holds back like the deletions they
// must follow. And a hook on the client counts the connections it opens: a
// restarted server, or a replica promoted by a failover, can only be reached
// on new ones, so before a hit is trusted after a new connection the store
// checks with INFO that every master is the server it knew (run_id,
// master_replid); when one is not, it renews the epoch, since that server
// may have lost acknowledged deletions (an RDB snapshot, AOF everysec, an
// asynchronous replica). Redis' own durability thus costs hits, never
// freshness.
//
// What each fault costs (TestFaultsThreeInstances, TestFaultsOnCluster,
// TestSentinelFailover and TestPartitionedInstance measure it, with a
// Timeout of 100 ms, three instances, writes through one, reads through
// the others):
//
//	fault                                   stale reads   what it costs
//	out for less than WriteWait             none          writes wait for Redis
//	CLIENT PAUSE ALL or WRITE, SIGSTOP,     none          writes return after WriteWait; hits stop
//	DEBUG SLEEP (longer than WriteWait)                   until the epoch is renewed
//	kill -9 and restart (AOF or RDB)        none          the epoch is renewed: every entry, once
//	Sentinel failover, Cluster failover     none          likewise
//	CLIENT KILL                             none          reconnections
//	FLUSHALL, eviction, SCRIPT FLUSH        none          hits of the keys lost
//	a value longer than proto-max-bulk-len  none          none: long values are named by digest
//	one instance cut off, others not        while cut     see Limits; 4 ms after the cut heals
//
// Limits. During a partition that cuts one instance off Redis while others
// still reach it, the others may serve entries that the cut-off instance's
// writes changed for as long as the partition lasts (its writes return
// after WriteWait): nothing can reach them. Once it heals, the retrier
// delivers within 10 ms (measured: 4 ms). An instance that sent nothing to
// Redis during an outage longer than WriteWait cannot know of it: it may
// serve such an entry in the 10 ms after Redis answers, before the writer's
// retrier delivers. The queue lives in process memory: invalidations still
// queued when the process exits are lost, like those of writes that commit
// just before a crash, whatever the store; their entries live until their
// TTL.
//
// # Eviction
//
// Losing any key of the store can only cost hits: a missing stamp or epoch
// makes the entries that recorded it invalid, and the schemes of a table
// live in its table stamp, so they go with it. Every key but the epoch has a
// TTL. The volatile-* maxmemory policies therefore evict entries and stamps
// but never the epoch: an evicted stamp invalidates the few entries that
// recorded it, and since each hit reads the stamps of its entry, the LRU
// and LFU policies tend to evict a stamp after the entries that need it, and
// volatile-ttl evicts entries (minutes) before stamps (Config.StampTTL,
// a day). noeviction evicts nothing: when Redis is full, Set and Stamps fail
// and queries go to the database, while invalidations, which only delete,
// still succeed. An allkeys-* policy may also evict the epoch, which
// invalidates every entry at once: New warns about it.
package redis
