package redis

// Degraded reports whether Get misses without asking Redis because
// invalidations wait to be retried or the epoch to be renewed.
func (s *Store) Degraded() bool { return s.retry.degraded.Load() }

// InGrace reports whether Get misses for reconnectGrace after a renewal of
// the epoch for an outage or a restarted server.
func (s *Store) InGrace() bool { return s.outages.inGrace() }
