package redis

// Degraded reports whether Get misses without asking Redis because
// invalidations wait to be retried or the epoch to be renewed.
func (s *Store) Degraded() bool { return s.retry.degraded.Load() }
