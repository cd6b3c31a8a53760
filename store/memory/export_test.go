package memory

// CleanUp runs the maintenance otter otherwise runs in the background, so
// that tests can check the bounds.
func (s *Store) CleanUp() {
	s.entries.CleanUp()
	s.stamps.CleanUp()
}

// StampCount returns the approximate number of stamps.
func (s *Store) StampCount() int {
	return s.stamps.EstimatedSize()
}
