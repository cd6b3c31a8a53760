package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The holder's side of the near caches' protocol: one goroutine per Near
// store subscribes to the invalidations, takes a lease once subscribed,
// renews it every quarter of the lease, applies and acknowledges every
// invalidation it receives, and fences the near cache (stops trusting its
// copies, forgets what it knew, gives the lease up) whenever one of these
// fails. Trust starts again with a new lease, once the subscription has
// delivered the hello that taking it published: every invalidation
// published after the lease was taken is then received, in order.
//
// A confirmed subscription alone does not prove it: on a Cluster, a
// subscription that lands on a node just demoted by a failover is
// confirmed, but its new master forwards nothing to it until it knows the
// node as its replica.

// holder is the state of that goroutine, which alone reads and writes it.
type holder struct {
	n    *Near
	ps   *goredis.PubSub
	msgs <-chan any
	// subscribed is set when the subscription is confirmed, and cleared
	// when it is made anew.
	subscribed bool
	// id names the latest lease taken, in the registry: the instance's id
	// and a number, new for every attempt, so that a call to Redis held
	// back by the network, which ends a lease, ends that one only.
	id    string
	taken uint64
	// life is the registry's life while the instance holds a lease, ""
	// otherwise; the invalidations numbered up to registered were
	// published before it took it, applied is the last one applied since.
	life                string
	registered, applied uint64
	// greeting is set from when the lease is taken until its hello is
	// received, which must be by greetBy; takenAt is when the call that
	// took it was sent.
	greeting         bool
	greetBy, takenAt time.Time
	// renewAt is when to renew; retryAt when a failed call may be tried
	// again.
	renewAt, retryAt time.Time
	// behind is the invalidation a refused renewal said it must apply
	// first, since behindSince; 0 when none.
	behind      uint64
	behindSince time.Time
	// fencedAt is when trust last ended, for the log of its return.
	fencedAt time.Time
	reason   string
}

// hold is the goroutine of a Near store, until Close.
func (n *Near) hold() {
	h := &holder{n: n}
	h.subscribe()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-n.closing:
			h.fence("the store is closed", false)
			_ = h.ps.Close()
			return
		case m, ok := <-h.msgs:
			if !ok {
				h.fence("the subscription ended", true)
				break
			}
			h.receive(m)
		case <-timer.C:
		}
		h.tick()
		timer.Reset(h.next())
	}
}

// subscribe makes a new subscription to the invalidations.
func (h *holder) subscribe() {
	n := h.n
	ctx, cancel := n.remote.bounded(context.Background())
	defer cancel()
	if c, ok := n.remote.client.(*goredis.ClusterClient); ok {
		h.ps = c.SSubscribe(ctx, n.keys.channel)
	} else {
		h.ps = n.remote.client.Subscribe(ctx, n.keys.channel)
	}
	// go-redis pings a silent subscription and reconnects when the ping
	// fails; a reconnection resubscribes, which receive sees.
	h.msgs = h.ps.ChannelWithSubscriptions(
		goredis.WithChannelSize(10_000),
		goredis.WithChannelHealthCheckInterval(max(n.cfg.Lease/4, time.Second)))
	h.subscribed = false
}

// receive handles what the subscription delivered.
func (h *holder) receive(m any) {
	switch m := m.(type) {
	case *goredis.Subscription:
		switch m.Kind {
		case "subscribe", "ssubscribe":
			if h.life != "" {
				// go-redis reconnected: what was published meanwhile is lost.
				h.fence("the subscription was reconnected", false)
			}
			h.subscribed = true
		default: // Redis unsubscribed us: a Cluster slot moved
			h.fence("Redis ended the subscription ("+m.Kind+")", true)
		}
	case *goredis.Message:
		// Acknowledge what is already received in one round trip.
		acks := h.apply(m.Payload, nil)
		var (
			other          any
			open, received bool
		)
	drain:
		for {
			select {
			case next, ok := <-h.msgs:
				if msg, isMsg := next.(*goredis.Message); isMsg {
					acks = h.apply(msg.Payload, acks)
					continue
				}
				other, open, received = next, ok, true
				break drain
			default:
				break drain
			}
		}
		h.ack(acks)
		switch {
		case received && open:
			h.receive(other)
		case received:
			h.fence("the subscription ended", true)
		}
	}
}

// apply applies the notice s to the near cache, and returns acks with its
// token added if it waits for this instance.
func (h *holder) apply(s string, acks []string) []string {
	n := h.n
	m, ok := parseNotice(s)
	if !ok {
		// What it invalidates is unknown: nothing may be trusted.
		n.known.reset()
		h.fence("an invalidation could not be read", false)
		return acks
	}
	var gap string
	if h.life != "" {
		switch {
		case m.life != h.life:
			gap = "the lease registry was made anew"
		case m.seq <= h.registered || m.seq <= h.applied:
		case !m.hello && m.seq == h.applied+1:
			h.applied = m.seq
		default:
			// A hello is numbered like the last invalidation before it.
			missing := m.seq - 1
			if m.hello {
				missing = m.seq
			}
			gap = "invalidations " + strconv.FormatUint(h.applied+1, 10) + " to " + strconv.FormatUint(missing, 10) + " were not received"
		}
	}
	if m.hello {
		if gap != "" {
			h.fence(gap, false)
		} else if h.greeting && m.token == h.id {
			h.greeted()
		}
		return acks
	}
	if m.reset {
		n.known.reset()
	} else {
		n.known.drop(m.hashes)
	}
	n.stats.applied.Add(1)
	if gap != "" {
		h.fence(gap, false)
	}
	if h.id != "" && m.waitsFor(h.id) {
		acks = append(acks, m.token)
	}
	return acks
}

// ack acknowledges the invalidations tokens, in one round trip. One that
// fails costs its writer a wait for the lease: it is not retried.
func (h *holder) ack(tokens []string) {
	if len(tokens) == 0 {
		return
	}
	n := h.n
	args := make([]any, 3, 3+len(tokens))
	args[0], args[1], args[2] = h.id, n.keys.pending, n.cfg.Lease.Milliseconds()
	for _, t := range tokens {
		args = append(args, t)
	}
	ctx, cancel := n.remote.bounded(context.Background())
	defer cancel()
	_ = ackScript.Run(ctx, n.remote.client, []string{n.keys.open}, args...).Err()
}

// tick does what is due: take a lease, renew it, fence when it lapses or
// when the renewal waits too long for invalidations.
func (h *holder) tick() {
	n := h.n
	now := time.Now()
	switch {
	case h.greeting && now.After(h.greetBy):
		h.fence("the subscription did not deliver the hello of the lease taken", true)
	case h.life != "" && !h.greeting && !n.trusted():
		h.fence("the lease was not renewed in time", false)
	case h.behind != 0 && now.Sub(h.behindSince) > h.grace():
		h.fence("invalidations published were not received", true)
	}
	if now.Before(h.retryAt) || !h.subscribed {
		return
	}
	switch {
	case h.life == "":
		h.register()
	case h.greeting:
	case h.behind != 0 && h.applied >= h.behind, h.behind == 0 && !now.Before(h.renewAt):
		h.renew()
	}
}

// grace is how long a renewal may wait for the invalidations Redis says
// were published: they are on their way, unless lost.
func (h *holder) grace() time.Duration {
	return max(h.n.remote.cfg.Timeout, h.n.margin)
}

// next returns how long to sleep until something is due.
func (h *holder) next() time.Duration {
	now := time.Now()
	at := now.Add(h.n.cfg.Lease / 4)
	if h.subscribed && h.life == "" {
		at = h.retryAt
	}
	if h.life != "" {
		at = h.renewAt
		if h.greeting {
			at = h.greetBy
		}
		if h.behind != 0 {
			at = now.Add(retryInterval)
		}
		if d := h.n.trust.Load(); d != nil {
			if end := h.n.base.Add(d.mono); end.Before(at) {
				at = end
			}
		}
	}
	if h.retryAt.After(at) {
		at = h.retryAt
	}
	return max(at.Sub(now), time.Millisecond)
}

// register takes a lease, which the near cache trusts once its hello
// arrives (see greeted).
func (h *holder) register() {
	n := h.n
	h.taken++
	h.id = n.id + "." + strconv.FormatUint(h.taken, 36)
	sent := time.Now()
	ctx, cancel := n.remote.bounded(context.Background())
	defer cancel()
	res, err := registerScript.Run(ctx, n.remote.client, []string{n.keys.registry},
		h.id, n.cfg.Lease.Milliseconds(), newLife(), n.registryTTL(), n.keys.channel, n.shardedArg()).StringSlice()
	var seq uint64
	if err == nil && len(res) == 2 {
		seq, err = strconv.ParseUint(res[1], 10, 64)
	}
	if err != nil || len(res) != 2 {
		n.stats.renewalFailures.Add(1)
		h.retryAt = time.Now().Add(retryInterval)
		return
	}
	h.life, h.registered, h.applied, h.behind = res[0], seq, seq, 0
	h.greeting, h.takenAt, h.greetBy = true, sent, time.Now().Add(h.grace())
}

// greeted starts trusting the lease taken, whose hello the subscription
// has delivered, after forgetting every stamp known: invalidations
// published before the hello may have been missed, but the readings of
// Redis that begin after it read what they deleted.
func (h *holder) greeted() {
	n := h.n
	n.known.reset()
	h.greeting = false
	h.trust(h.takenAt)
	if !h.fencedAt.IsZero() {
		n.remote.cfg.Logf("gormcache: redis: near cache trusted again, %v after it stopped (%s)",
			time.Since(h.fencedAt).Round(time.Millisecond), h.reason)
		h.fencedAt = time.Time{}
	}
}

// renew renews the lease.
func (h *holder) renew() {
	n := h.n
	sent := time.Now()
	ctx, cancel := n.remote.bounded(context.Background())
	defer cancel()
	res, err := renewScript.Run(ctx, n.remote.client, []string{n.keys.registry},
		h.id, h.applied, h.life, n.cfg.Lease.Milliseconds(), newLife(), n.registryTTL()).Int64Slice()
	if err == nil && len(res) != 2 {
		err = errNearReply
	}
	if err != nil {
		n.stats.renewalFailures.Add(1)
		h.retryAt = time.Now().Add(retryInterval)
		return
	}
	switch res[0] {
	case 0:
		h.fence("the lease lapsed in Redis", false)
	case 1:
		if h.behind == 0 {
			h.behindSince = sent
		}
		h.behind = uint64(res[1])
	default:
		h.behind = 0
		h.trust(sent)
	}
}

// trust lets the near cache serve until the margin before the lease taken
// or renewed by a call sent at sent lapses, and schedules its renewal.
func (h *holder) trust(sent time.Time) {
	n := h.n
	for_ := n.cfg.Lease - n.margin
	n.trust.Store(&deadline{mono: sent.Sub(n.base) + for_, wall: sent.UnixNano() + int64(for_)})
	h.renewAt = sent.Add(n.cfg.Lease / 4)
	n.stats.renewals.Add(1)
}

// fence stops trusting the copies, forgets the stamps known, and gives the
// lease up, acknowledging every invalidation that waits for this instance;
// with resubscribe, it also makes a new subscription.
func (h *holder) fence(reason string, resubscribe bool) {
	n := h.n
	n.trust.Store(nil)
	n.known.reset()
	trusted := h.life != "" && !h.greeting
	// A lease whose hello did not arrive is reported once, until trust
	// resumes: the subscription may stay deaf for long.
	report := trusted || h.greeting && h.fencedAt.IsZero()
	h.life, h.behind, h.greeting = "", 0, false
	ctx, cancel := n.remote.bounded(context.Background())
	_ = unregisterScript.Run(ctx, n.remote.client, []string{n.keys.registry, n.keys.open},
		h.id, n.keys.pending, n.cfg.Lease.Milliseconds()).Err()
	cancel()
	if trusted {
		n.stats.fences.Add(1)
	}
	if report {
		if h.fencedAt.IsZero() {
			h.fencedAt, h.reason = time.Now(), reason
		}
		if reason != "the store is closed" {
			n.remote.cfg.Logf("gormcache: redis: near cache stopped: %s; its hits are validated in Redis until it holds a lease again", reason)
		}
	}
	if resubscribe {
		_ = h.ps.Close()
		h.subscribe()
	}
}
