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
// # Near caches
//
// Near keeps TwoLevel's copies and serves them with no round trip: a hit
// is a lookup in process memory, as with the memory store, yet the promise
// holds across instances. A read never returns data older than a write,
// through any instance's GORM, whose call returned before the read began.
// The mechanism is leases with acknowledged invalidations (Gray and
// Cheriton, SOSP 1989; Redis' client-side caching with tracking, made
// strict):
//
//   - An instance subscribes to the invalidations of its prefix, then takes
//     a lease (NearConfig.Lease, 2s by default) in a registry in Redis, and
//     renews it every quarter lease. Taking a lease publishes a hello that
//     names it, and the instance trusts the lease only once its
//     subscription has delivered that hello: a confirmed subscription may
//     still receive nothing (on a Cluster, one made on a node that a
//     failover has just demoted). It serves from memory only while the
//     subscription is live and the lease holds, and stops a tenth of a lease
//     before the lease could lapse, counted from when it sent the renewal.
//     Pub/sub runs on the client given to New (SPUBLISH and SSUBSCRIBE on a
//     Cluster). The registry, the channel and the acknowledgements all live
//     in the epoch's slot, so each script runs on one node.
//   - A write's invalidation deletes its stamps, then publishes a notice:
//     the hashes of the stamp keys, a sequence number and the leases it
//     waits for, which are every other instance's lease that has not lapsed.
//     It returns once all of those acknowledged the notice, or once the last
//     of them lapsed by Redis' clock, which also dated the leases: a BLPOP
//     on a list that the last acknowledgement pushes to. An instance drops
//     the stamps, then acknowledges, with one script call per batch of
//     notices. A notice of rows' stamps also names their table's stamp,
//     which stays in Redis: see Eviction.
//   - A lease is renewed only if its holder applied every notice published
//     before its previous renewal. A holder that has not applied a notice
//     can therefore renew its lease at most once after the notice was
//     published. A writer whose wait timed out checks the registry for such
//     a renewal and waits for that lease too.
//   - A copy is served from memory when every stamp it recorded is known
//     current. Stamps are learned from reads of Redis (a Stamps call, a
//     validation, a fetch) that began after the last notice about them was
//     applied, and a notice makes them unknown.
//   - An instance stops trusting its copies (it fences itself) when its lease
//     was not renewed in time, its subscription was lost (go-redis
//     resubscribes, and the notices sent meanwhile are lost), a sequence
//     number is missing, a notice comes from another registry, a renewal
//     waits too long for notices, or the hello of its lease does not arrive
//     within Config.Timeout (or a tenth of the lease, if longer). Fencing
//     forgets every stamp known. The instance then gives its lease up,
//     which acknowledges every notice that waits for it, since it no longer
//     trusts what they change. Until it has subscribed again and taken a
//     new lease, it validates in Redis, as TwoLevel does. The log says when
//     it stops and starts again, and why.
//     NearStats counts hits, validations, fences, renewals, acknowledged
//     writes and lapsed waits; package metrics (a module of its own)
//     exports them to Prometheus.
//
// Why no read is stale. Let a write W return, and a later read on instance I
// serve a copy from memory. If W could not delete its stamps, it renewed the
// epoch, which changes every stamp, and waited until every near cache had
// forgotten the stamps it knew (or had lost its lease): what I learned since
// holds the new epoch, which no copy stored before recorded (if Redis took
// neither, see the Limits of Faults). Otherwise W deleted the stamps before
// it published its notice N. If I applied N before the read, the stamps it
// knows were read after N was applied, so after the deletion: they are new
// stamps, which the copy did not record. Otherwise I did not acknowledge N,
// and there are two cases. In the first, N named I's lease and W waited
// until that lease lapsed in Redis. I stopped trusting it before then,
// thanks to the margin. I could not renew it twice without applying N, and W
// waited for the one renewal it could have. In the second, N named no lease
// of I's, so I took its lease after N was published, and its hello H after
// N. I trusts the lease only from when it received H, and forgot every stamp
// it knew then: every stamp it learned since was read after H was published,
// so after the deletion. The registry itself may be wrong: a server
// restarted or promoted by a failover may restore an old one, and FLUSHALL
// or eviction may lose it. So every registry records the run_id of the
// server that wrote it. Scripts run on another server, or finding no
// registry, make a new one with a new life, and every write waits a whole
// lease after that (a quarantine): every lease given before has lapsed by
// then. Instances see the new life in the next notice or renewal and take a
// new lease.
//
// Bounds assumed. Every clock involved (this process's monotonic and wall
// clocks, and the clock of the Redis master that dates the leases and
// times the BLPOP) runs within 5% of real time: an instance trusts a lease
// for 0.9 Lease after it sent the renewal, and Redis keeps it for Lease
// after it received it. NTP keeps clock rates within 0.05%. Redis' clock
// must not step forward while leases run (NTP slewing, not stepping), as
// its own key expiry also requires. An instance checks both its monotonic
// and wall clocks, so a process or virtual machine suspended longer than
// its lease stops trusting its copies once either clock shows the time that
// passed.
//
// What it costs. A hit on a copy known current costs no round trip; any
// other lookup costs what TwoLevel's does. Stamps, Set, Delete and the
// schemes cost what the Store's do. An invalidation costs today's round
// trip plus one publication: on a single node both go in one pipeline, and
// on a Cluster the publication goes after the deletion, since it must
// follow it. When other instances hold leases, it costs one more round trip
// to wait for their acknowledgements:
//
//	Invalidate                    single node   Cluster
//	no other instance holds one   1             2
//	others hold leases            2             3
//
// Each instance renews its lease with one script call every quarter lease,
// acknowledges each batch of notices with one, and keeps a connection
// outside the pool for its subscription. A write holds a pooled connection
// while it waits. The waits are:
//
//   - an instance that crashed, is paused (SIGSTOP, a stalled VM) or is cut
//     off from Redis delays writes by at most a lease, until its lease
//     lapses, plus a round trip and up to a tick of Redis' timer: Redis
//     ends a BLPOP that times out at its next tick, 1000/hz ms (100 ms
//     at the default hz of 10) (measured: 494-531 ms with a lease of
//     500 ms; 611 ms under the race detector on a loaded machine).
//     NearStats.Lapsed and LapseWait count these waits, and the log
//     reports them every 10s;
//   - an instance that lost its subscription gives its lease up as soon as
//     go-redis has resubscribed (1-20 ms measured), which acknowledges for
//     it: the writes meanwhile wait that long;
//   - an instance whose subscription is confirmed but delivers nothing
//     gives its lease up once the hello of its lease is overdue
//     (Config.Timeout, or a tenth of the lease if longer), which
//     acknowledges for it: the writes meanwhile wait that long (measured:
//     34-100 ms with a Timeout of 100 ms, TestNearDeafSubscription);
//   - the first writes after a registry is made wait a lease. That happens
//     for the first Near store of a prefix, and after Redis lost, restored
//     or failed over its registry. Flush keeps the registry;
//   - when Redis does not take an invalidation, the write tries again for
//     max(WriteWait, Lease), not WriteWait, then renews the epoch and waits
//     for every near cache to forget what it knew (see Faults): the node
//     of the stamps may be out (a Cluster master paused by a failover)
//     while the registry's answers, and near caches serve from memory
//     whatever the first does.
//
// Limits. Every instance that writes under the prefix must use a Near
// store: a plain Store's or TwoLevel's invalidations publish no notice, so
// they would leave near caches serving what they changed until the copies
// expire. Delete removes this instance's copies only; other instances'
// copies go when their stamps change or their TTL ends, as with TwoLevel.
// A partition that cuts a writer off Redis is the limit below; a partition
// that cuts a reader off costs writes at most a lease.
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
// passed, or the lease of a Near store if longer: the write's call returns
// only then, so while Redis is out for
// less than that, no instance can serve what the write changed once Redis
// answers. Then it is queued, up to Config.RetryQueue stamps, for a retrier
// that tries every 10 ms, and delivers within that once Redis answers. Until
// every queued invalidation is delivered, the store misses on every Get
// without asking Redis. An invalidation that cannot be delivered within
// Config.RetryFor, or that the full queue cannot take, is dropped; the store
// then renews the epoch as soon as Redis answers, and misses until it has.
// A Near store does not wait for a drop: before the write returns, it
// renews the epoch, which has every near cache forget what it knew, or has
// the retrier do so first if Redis does not take that either
// (TestNearStampNodePaused). Renewing the epoch invalidates every entry of
// every process that uses the store's prefix. Drops and renewals are logged
// through Config.Logf.
//
// A connection that breaks after Redis ran a call, before its reply
// arrived (CLIENT KILL, a reset), has go-redis send the call again on a new
// one. Deletions and entries may be written twice with no harm; a stamp,
// an epoch or a near registry that a call creates takes the server's clock
// in its value, so the second run never brings back one that a write
// deleted in between (TestLostReplyRenewsNothing).
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
// asynchronous replica). After either renewal the store misses for 1.5 s
// more: another instance's client may reach Redis again up to a second
// after this one's (go-redis's pool, once it has failed to dial as many
// times as it holds connections, probes the server once a second), and a
// writer queues its invalidations until it does; the grace lets them
// arrive before a hit is trusted. Redis' own durability thus costs hits,
// never freshness.
//
// What each fault costs (TestFaultsThreeInstances, TestFaultsOnCluster,
// TestSentinelFailover, TestClusterFailover and TestPartitionedInstance
// measure it, with a Timeout of 100 ms, three instances, writes through
// one, reads through the others):
//
//	fault                                   stale reads   what it costs
//	out for less than WriteWait             none          writes wait for Redis
//	CLIENT PAUSE ALL or WRITE, SIGSTOP,     none          writes return after WriteWait; hits stop
//	DEBUG SLEEP (longer than WriteWait)                   until the epoch is renewed
//	kill -9 and restart (AOF or RDB)        none          the epoch is renewed: every entry, once
//	Sentinel failover, Cluster failover     none          likewise (CLUSTER FAILOVER of each master
//	                                                      in turn, one replica each: 60-310 ms each)
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
// retrier delivers. Likewise, when Redis takes neither a Near store's
// deletion nor the renewal of the epoch that replaces it, the write returns
// with the renewal queued: a near cache that still renews its lease may
// serve what the write changed until the retrier renews the epoch, within
// 10 ms of Redis answering. The queue lives in process memory:
// invalidations still queued when the process exits are lost, like those
// of writes that commit just before a crash, whatever the store; their
// entries live until their TTL.
//
// # Eviction
//
// Losing any key of the store can only cost hits: a missing stamp or epoch
// makes the entries that recorded it invalid, and the schemes of a table
// live in its table stamp, so they go with it. A near cache does not read
// the stamps of the copies it serves, so it cannot see a table stamp go,
// nor a reader make it anew with schemes of its own; but a write of the
// table's rows, which found their stamps by the schemes Redis kept, has
// every near cache forget the table's stamp: each then validates the next
// copy of the table it serves in Redis, which a lost stamp fails, and
// learns the stamp again for the others. Every key but the epoch has a
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
