package gormcache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZoneOffsetsTellZonesApart checks that two zones that agree on the
// date of the identity query's DATETIME probe (London and Abidjan, both
// GMT in January) still differ in the identity of a pool that reads in
// the host's Local zone: hosts in either would read one DATETIME as
// different instants in summer.
func TestZoneOffsetsTellZonesApart(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		require.NoError(t, err)
		return loc
	}
	london, abidjan := load("Europe/London"), load("Africa/Abidjan")
	probe := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, inLondon := probe.In(london).Zone()
	_, inAbidjan := probe.In(abidjan).Zone()
	require.Equal(t, inLondon, inAbidjan, "the zones differ on the probe's date already")
	assert.NotEqual(t, zoneOffsets(london), zoneOffsets(abidjan))
	assert.Equal(t, zoneOffsets(london), zoneOffsets(load("Europe/London")))
}
