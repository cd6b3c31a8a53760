package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gormcache/gormcache/store/redis"
)

// NearStatser is a store that keeps a near cache: a *redis.Near, or a store
// that wraps one and passes its statistics on.
type NearStatser interface {
	NearStats() redis.NearStats
}

// near are the metrics of a near cache, collected when the plugin's store
// is a NearStatser.
type near struct {
	trusted, hits, validated, fences, renewals, renewalFailures *prometheus.Desc
	applied, published, acked, lapsed, lapseWait                *prometheus.Desc
}

func newNear(desc func(name, help string, labels ...string) *prometheus.Desc) near {
	return near{
		trusted:         desc("near_trusted", "1 while the near cache serves hits from memory (it holds its lease in Redis and a live subscription), 0 while it validates them in Redis."),
		hits:            desc("near_hits_total", "Lookups the near cache served from memory, with no round trip to Redis."),
		validated:       desc("near_validations_total", "Lookups the near cache validated in Redis, hit or not."),
		fences:          desc("near_fences_total", "Times the near cache stopped trusting its copies: a lease not renewed in time, a lost subscription, a gap in the invalidations, a new registry of leases."),
		renewals:        desc("near_renewals_total", "Leases taken and renewed."),
		renewalFailures: desc("near_renewal_failures_total", "Lease renewals Redis did not answer."),
		applied:         desc("near_invalidations_applied_total", "Invalidations received from any instance, this one's included, and applied to the near cache."),
		published:       desc("near_invalidations_published_total", "Invalidations this instance published to the near caches."),
		acked:           desc("near_writes_acked_total", "Published invalidations that waited for other instances' acknowledgements and got them all."),
		lapsed:          desc("near_writes_lapsed_total", "Published invalidations that waited for the lease of an instance that did not acknowledge to lapse (crashed, paused, cut off), or for a new registry of leases."),
		lapseWait:       desc("near_lapse_wait_seconds_total", "Time writes spent waiting for leases to lapse."),
	}
}

func (n near) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		n.trusted, n.hits, n.validated, n.fences, n.renewals, n.renewalFailures,
		n.applied, n.published, n.acked, n.lapsed, n.lapseWait,
	} {
		ch <- d
	}
}

func (n near) collect(ch chan<- prometheus.Metric, s redis.NearStats) {
	trusted := 0.0
	if s.Trusted {
		trusted = 1
	}
	ch <- prometheus.MustNewConstMetric(n.trusted, prometheus.GaugeValue, trusted)
	for _, c := range []struct {
		desc  *prometheus.Desc
		value uint64
	}{
		{n.hits, s.Hits}, {n.validated, s.Validated}, {n.fences, s.Fences},
		{n.renewals, s.Renewals}, {n.renewalFailures, s.RenewalFailures},
		{n.applied, s.Applied}, {n.published, s.Published}, {n.acked, s.Acked}, {n.lapsed, s.Lapsed},
	} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value))
	}
	ch <- prometheus.MustNewConstMetric(n.lapseWait, prometheus.CounterValue, s.LapseWait.Seconds())
}
