package gormcache

import "testing"

func TestRouteOf(t *testing.T) {
	tests := []struct {
		name string
		f    readFacts
		want route
	}{
		{"not opted in", readFacts{}, routeGORM},
		{"opted in", readFacts{optedIn: true}, routeCache},
		{"raw, opted in", readFacts{optedIn: true, raw: true}, routeCache},
		{"raw write", readFacts{raw: true, writes: true}, routeWrite},
		{"raw write, opted in, in a transaction", readFacts{raw: true, writes: true, optedIn: true, inTx: true}, routeWrite},
		{"dry run", readFacts{optedIn: true, dryRun: true}, routeGORM},
		{"NoCache", readFacts{optedIn: true, noCache: true}, routeBypass},
		{"in a transaction", readFacts{optedIn: true, inTx: true}, routeBypass},
		{"locking", readFacts{optedIn: true, locking: true}, routeBypass},
		{"closed", readFacts{optedIn: true, closed: true}, routeBypass},
		{"context ended", readFacts{optedIn: true, ended: true}, routeBypass},
		{"context ended, not opted in", readFacts{ended: true}, routeGORM},
		{"context ended, dry run", readFacts{optedIn: true, ended: true, dryRun: true}, routeGORM},
		{"CacheGet, context ended", readFacts{getOnly: true, ended: true}, routeBypass},
		{"in a transaction, not opted in", readFacts{inTx: true}, routeGORM},
		{"CacheGet", readFacts{getOnly: true}, routeCacheGet},
		{"CacheGet, raw", readFacts{getOnly: true, raw: true}, routeGORM},
		{"CacheGet, locking", readFacts{getOnly: true, locking: true}, routeBypass},
	}
	for _, tt := range tests {
		if got := routeOf(tt.f); got != tt.want {
			t.Errorf("%s: got route %d, want %d", tt.name, got, tt.want)
		}
	}
}
