package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The writer's side of the near caches' protocol: an invalidation deletes
// its stamps, then is published to every near cache, and returns once every
// instance holding a lease has acknowledged it, or its lease has lapsed.

// invalidate deletes the stamp keys keys and delivers their invalidation to
// every near cache, this one's included. With del false it only delivers
// it: the epoch was renewed instead of deleting them.
//
// The near caches also forget the stamps of the tables whose rows' stamps
// keys name, which stay in Redis: a writer finds the rows' stamps to renew
// by the schemes kept with the table's stamp, and Redis may have lost that
// key (evicted, expired) and a reader made it anew since a near cache
// learned it, taking with it the schemes of the copies that near cache
// holds. Those copies depend on the table's old stamp: once forgotten, the
// next copy of the table a near cache serves is validated in Redis, which
// learns the table's stamp again for the others (one round trip per table
// and write), and a lost stamp fails it.
func (n *Near) invalidate(ctx context.Context, keys []string, del bool) error {
	hashes := make([]uint64, 0, 2*len(keys))
	for _, k := range keys {
		hashes = append(hashes, keyHash(k))
		if table, ok := n.remote.tableKey(k); ok {
			hashes = append(hashes, keyHash(table))
		}
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	if !del {
		keys = nil
	}
	return n.publish(ctx, keys, dropBody(hashes), func() { n.known.drop(hashes) })
}

// reset has every near cache forget the stamps it knows: the epoch was
// renewed, and every stamp with it.
func (n *Near) reset(ctx context.Context) error {
	return n.publish(ctx, nil, []byte{noticeReset}, n.known.reset)
}

// publish deletes the stamp keys del, then publishes body and applies it
// to this near cache with apply, then waits for the other instances (see
// await). On a single node the deletion and the publication make one round
// trip, in this order; a Cluster keeps the stamps on other nodes, so the
// publication waits for the deletion. The error is the deletion's, if it
// failed, else the publication's or the wait's.
func (n *Near) publish(ctx context.Context, del []string, body []byte, apply func()) error {
	r := n.remote
	token := n.id + "." + strconv.FormatUint(n.tokens.Add(1), 16)
	bctx, cancel := r.bounded(ctx)
	defer cancel()
	if len(del) > 0 && !r.single {
		if err := r.del(bctx, del); err != nil {
			return err
		}
	}
	var (
		dels *goredis.IntCmd
		pub  *goredis.Cmd
	)
	err := r.pipelined(bctx, func(p goredis.Pipeliner, run runner) {
		if len(del) > 0 && r.single {
			dels = p.Del(bctx, del...)
		}
		pub = run(publishScript, []string{n.keys.registry, n.keys.open},
			n.id, token, n.keys.channel, body, n.cfg.Lease.Milliseconds(), newLife(),
			n.registryTTL(), n.shardedArg(), n.keys.pending)
	})
	if dels != nil && dels.Err() != nil {
		return dels.Err()
	}
	if err != nil {
		return err
	}
	res, err := pub.Int64Slice()
	if err == nil && len(res) != 3 {
		err = errNearReply
	}
	if err != nil {
		return err
	}
	n.stats.published.Add(1)
	apply()
	if res[0] == 0 {
		return nil
	}
	return n.await(ctx, token, time.Duration(res[1])*time.Millisecond, res[2] == 1)
}

// await waits until the last acknowledgement of the invalidation token is
// pushed to its done list, or every lease it waits for lapsed (and the
// quarantine ended, when quarantine is set), left from now by the clock of
// Redis, which gave the leases: BLPOP measures the wait, in several calls
// when the client's ReadTimeout is shorter. When the wait times out,
// lapsedScript says whether a lease was renewed since: then it waits for
// that one. After a fault it goes on by this process's clock.
func (n *Near) await(ctx context.Context, token string, left time.Duration, quarantine bool) error {
	r := n.remote
	start := time.Now()
	end := start.Add(left)
	for block := left; ; {
		chunk := min(block, n.maxBlock())
		bctx, cancel := context.WithTimeout(ctx, chunk+r.cfg.Timeout)
		err := r.client.Do(bctx, "BLPOP", n.keys.done(token), seconds(chunk)).Err()
		if err != nil && bctx.Err() != nil && ctx.Err() == nil {
			// Redis ends a BLPOP that timed out at its next tick, which a
			// loaded machine may put past the margin: the wait timed out
			// all the same, and lapsedScript says what was acknowledged.
			err = goredis.Nil
		}
		cancel()
		if errors.Is(err, goredis.Nil) && chunk < block {
			block -= chunk
			continue
		}
		if errors.Is(err, goredis.Nil) {
			var ms int64
			if ms, err = n.lapsed(ctx, token); err == nil && ms == 0 {
				waited := time.Since(start)
				n.stats.lapsed.Add(1)
				n.stats.lapseWait.Add(int64(waited))
				n.logLapse(waited, quarantine)
				return nil
			}
			if err == nil {
				block = time.Duration(ms) * time.Millisecond
				end = time.Now().Add(block)
				continue
			}
		}
		if err == nil {
			n.stats.acked.Add(1)
			return nil
		}
		if block = time.Until(end); block <= 0 || ctx.Err() != nil {
			return fmt.Errorf("waiting for acknowledgements: %w", err)
		}
		time.Sleep(retryInterval)
	}
}

// lapsed runs lapsedScript for token.
func (n *Near) lapsed(ctx context.Context, token string) (int64, error) {
	ctx, cancel := n.remote.bounded(ctx)
	defer cancel()
	return lapsedScript.Run(ctx, n.remote.client, []string{n.keys.registry, n.keys.open}, token, n.keys.pending).Int64()
}

// maxBlock is the longest BLPOP the client's ReadTimeout allows, with a
// margin; the lease when it has none.
func (n *Near) maxBlock() time.Duration {
	var rt time.Duration
	switch c := n.remote.client.(type) {
	case *goredis.Client:
		rt = c.Options().ReadTimeout
	case *goredis.ClusterClient:
		rt = c.Options().ReadTimeout
	}
	if rt <= 0 {
		return n.cfg.Lease
	}
	return max(rt/2, time.Millisecond)
}

// seconds formats d for BLPOP, to the millisecond, at least one: BLPOP
// waits forever for 0. (go-redis's BLPop rounds to whole seconds.)
func seconds(d time.Duration) string {
	return strconv.FormatFloat(max(d, time.Millisecond).Seconds(), 'f', 3, 64)
}

// logLapse logs a write that waited for a lease to lapse, or for a
// quarantine to end, at most once every lapseLogEvery, with the number of
// those not logged.
func (n *Near) logLapse(waited time.Duration, quarantine bool) {
	now := time.Now().UnixNano()
	last := n.lastLapseLog.Load()
	if now-last < int64(lapseLogEvery) || !n.lastLapseLog.CompareAndSwap(last, now) {
		n.unloggedLapses.Add(1)
		return
	}
	why := "an instance that did not acknowledge its invalidation (crashed, paused or cut off) held a lease until then"
	if quarantine {
		why = "the registry of leases is new (the first near cache of the prefix, or Redis lost it, restarted or failed over), so it waited out a lease"
	}
	n.remote.cfg.Logf("gormcache: redis: a write waited %v: %s; %d more such writes since the last report",
		waited.Round(time.Millisecond), why, n.unloggedLapses.Swap(0))
}

// lapseLogEvery spaces the reports of logLapse.
const lapseLogEvery = 10 * time.Second

// newLife returns a candidate name for a new registry.
func newLife() string { return strconv.FormatUint(rand.Uint64(), 36) }

// registryTTL is the TTL of the registry, which every renewal renews: the
// stamps', so that a volatile-ttl eviction takes it last.
func (n *Near) registryTTL() int64 {
	return max(n.remote.cfg.StampTTL, 2*n.cfg.Lease).Milliseconds()
}

func (n *Near) shardedArg() string {
	if n.sharded {
		return "1"
	}
	return "0"
}
