package peers

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/photos"
)

// The size of BenchmarkMixed, that of the root package's
// BenchmarkMixedWorkload: its users, the photos of each, and the
// operations run before it measures (the steady state is what matters).
const (
	mixedUsers   = 1000
	mixedPerUser = 10
	mixedWarmUp  = 20_000
)

// BenchmarkMixed runs the workload of the root package's
// BenchmarkMixedWorkload through each plugin and none: 90% reads (a user's
// photos by status, a photo by primary key, a user with her photos
// preloaded) and 10% writes (a photo's status or title changes, a photo is
// inserted or deleted) over the photos of mixedUsers users, users and
// photos drawn from Zipf distributions. It reports the time per operation
// of each (ns/<name>), how many times faster than uncached each cache runs
// it (uncached/<name>), the time per read and per write of each
// (ns/read-<name>, ns/write-<name>), the hit ratios of each cache per statement
// (hit-ratio-<name>) and per read (read-hit-ratio-<name>: a read is a hit
// when every statement it ran was, the preload included), and the share of
// the peer's reads that were stale (stale-ratio-caches). A stale read
// through gormcache fails it.
func BenchmarkMixed(b *testing.B) {
	for _, d := range engines {
		b.Run(d.Name, func(b *testing.B) {
			m := newMixed(b, d, mixedUsers, mixedPerUser)
			for range mixedWarmUp {
				m.step(b)
			}
			m.reset()
			for b.Loop() {
				m.step(b)
			}
			if m.stale[ours] > 0 {
				b.Fatalf("gormcache: %d stale reads", m.stale[ours])
			}
			reportTimes(b, m.hs, m.spent)
			for j, h := range m.hs {
				b.ReportMetric(float64(m.readSpent[j].Nanoseconds())/float64(max(1, m.reads)), "ns/read-"+h.name)
				b.ReportMetric(float64((m.spent[j]-m.readSpent[j]).Nanoseconds())/float64(max(1, b.N-m.reads)), "ns/write-"+h.name)
			}
			for _, j := range []int{ours, peer} {
				h := m.hs[j]
				b.ReportMetric(ratio(m.spent[uncached], m.spent[j]), "uncached/"+h.name)
				c := countsOf(h)
				hits, misses := c.hits-m.base[j].hits, c.misses-m.base[j].misses
				b.ReportMetric(float64(hits)/float64(max(1, hits+misses)), "hit-ratio-"+h.name)
				b.ReportMetric(float64(m.readHits[j])/float64(max(1, m.reads)), "read-hit-ratio-"+h.name)
			}
			b.ReportMetric(float64(m.stale[peer])/float64(max(1, m.reads)), "stale-ratio-caches")
		})
	}
}

// TestMixedFresh runs a short mixed workload and requires that every read
// through either cache return what the database holds, and that both
// caches hit: the benchmarks must compare plugins that are used correctly.
func TestMixedFresh(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		m := newMixed(t, d, 100, 10)
		for range 1000 {
			m.step(t)
		}
		for _, j := range []int{ours, peer} {
			require.Zero(t, m.stale[j], "%s: stale reads", m.hs[j].name)
			require.NotZero(t, m.readHits[j], "%s: no read hit", m.hs[j].name)
		}
	})
}

// mixed runs the mixed workload through every compared plugin, each on a
// database of its own, seeded alike, which receives every operation: the
// uncached database then holds what every cache should return.
type mixed struct {
	hs                  []*handle
	r                   *rand.Rand
	userZipf, photoZipf *rand.Zipf

	// Since the last reset: the time each handle spent, in all and in
	// reads, the reads, and the reads of each handle that hit or were
	// stale; base holds the handles' counts at the reset.
	spent           []time.Duration
	readSpent       [variants]time.Duration
	reads           int
	readHits, stale [variants]int
	base            [variants]counts
}

func newMixed(tb testing.TB, d testdb.Dialector, users, perUser int) *mixed {
	r := rand.New(rand.NewPCG(1, 2))
	m := &mixed{
		r:         r,
		userZipf:  rand.NewZipf(r, 1.1, 1, uint64(users-1)),
		photoZipf: rand.NewZipf(r, 1.1, 1, uint64(users*perUser-1)),
		spent:     make([]time.Duration, variants),
	}
	for _, open := range opens {
		dial := d.Open(tb)
		seed(tb, openDB(tb, dial), users, perUser)
		m.hs = append(m.hs, open(tb, dial))
	}
	return m
}

// reset starts the counts of m again.
func (m *mixed) reset() {
	clear(m.spent)
	m.readSpent, m.reads, m.readHits, m.stale = [variants]time.Duration{}, 0, [variants]int{}, [variants]int{}
	for j, h := range m.hs {
		m.base[j] = countsOf(h)
	}
}

// step draws one operation and runs it through every handle, back to back
// in a random order. A read through a cache that returns other than the
// uncached read is stale; the first of each cache is logged.
func (m *mixed) step(tb testing.TB) {
	o := op{
		kind:   m.r.IntN(100),
		user:   uint(1 + m.userZipf.Uint64()),
		photo:  uint(1 + m.photoZipf.Uint64()),
		status: m.r.IntN(3),
		title:  fmt.Sprint("t", m.r.IntN(100)),
	}
	var before [variants]counts
	for j, h := range m.hs {
		before[j] = countsOf(h)
	}
	var got [variants]any
	took := make([]time.Duration, variants)
	runPaired(tb, m.hs, took, func(j int, h *handle) (err error) {
		got[j], err = o.run(h.DB)
		return err
	})
	for j, d := range took {
		m.spent[j] += d
	}
	if !o.read() {
		return
	}
	for j, d := range took {
		m.readSpent[j] += d
	}
	m.reads++
	want := describe(got[uncached])
	for _, j := range []int{ours, peer} {
		if countsOf(m.hs[j]).misses == before[j].misses {
			m.readHits[j]++
		}
		if g := describe(got[j]); g != want {
			if m.stale[j] == 0 {
				tb.Logf("%s: stale read %+v: got %s, the database holds %s", m.hs[j].name, o, g, want)
			}
			m.stale[j]++
		}
	}
}

// An op is one operation of the mixed workload, drawn once and run through
// every handle.
type op struct {
	kind        int // a percentile: below 90 a read, see run
	user, photo uint
	status      int
	title       string
}

func (o op) read() bool { return o.kind < 90 }

// run runs o on db. A read returns what it read: the photos, the photo (nil
// when there is none) or the user.
func (o op) run(db *gorm.DB) (any, error) {
	switch {
	case o.kind < 30:
		var ps []photos.Photo
		err := db.Where("user_id = ? AND status = ?", o.user, o.status).Find(&ps).Error
		return ps, err
	case o.kind < 60:
		var p photos.Photo
		err := db.First(&p, o.photo).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		}
		return p, err
	case o.kind < 90:
		var u photos.User
		err := db.Preload("Photos").First(&u, o.user).Error
		return u, err
	case o.kind < 93:
		return nil, db.Model(&photos.Photo{ID: o.photo}).Update("status", o.status).Error
	case o.kind < 96:
		return nil, db.Model(&photos.Photo{ID: o.photo}).Update("title", o.title).Error
	case o.kind < 98:
		return nil, db.Create(&photos.Photo{UserID: o.user, Title: "new", Status: o.status}).Error
	default:
		return nil, db.Delete(&photos.Photo{}, o.photo).Error
	}
}

// describe renders what a read returned, to compare: photos in the order
// of their ids, since the statements ask for no order.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "not found"
	case []photos.Photo:
		return describePhotos(v)
	case photos.Photo:
		return describePhotos([]photos.Photo{v})
	case photos.User:
		return fmt.Sprintf("user %d %q %q with %s", v.ID, v.Name, v.Email, describePhotos(v.Photos))
	}
	panic(fmt.Sprintf("describe: unexpected %T", v))
}

func describePhotos(ps []photos.Photo) string {
	ps = slices.SortedFunc(slices.Values(ps), func(a, b photos.Photo) int { return cmp.Compare(a.ID, b.ID) })
	var s strings.Builder
	s.WriteString("[")
	for _, p := range ps {
		fmt.Fprintf(&s, "(%d %d %q %d %v)", p.ID, p.UserID, p.Title, p.Status, p.DeletedAt.Valid)
	}
	s.WriteString("]")
	return s.String()
}
