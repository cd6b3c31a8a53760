package gormcache_test

import (
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
)

// Counter is a row whose Version only grows; each row has one writer.
type Counter struct {
	ID      uint
	Version int64
}

// tally counts the reads of a race test and the stale rows they returned.
type tally struct{ reads, stale atomic.Int64 }

// race runs write while readers goroutines call read(i) with i counting
// up from r, the reader's number, until write has returned and each has
// read 40 times more (reads after the last write, which can hit). A read
// that fails returns false and stops its reader. It then logs the
// plugin's statistics and fails t when tl counted a stale read, or when no
// read hit the cache.
func race(t *testing.T, p *gormcache.Plugin, readers int, tl *tally, write func(), read func(i int) bool) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					if i >= 40 {
						return
					}
				default:
				}
				if !read(i + r) {
					return
				}
			}
		})
	}
	write()
	close(done)
	wg.Wait()

	s := p.Stats()
	t.Logf("%d reads, %d hits, %d misses, hit ratio %.2f", tl.reads.Load(), s.Hits, s.Misses, s.HitRatio())
	if n := tl.stale.Load(); n != 0 {
		t.Fatalf("%d stale reads", n)
	}
	if s.Hits == 0 {
		t.Fatal("no read hit the cache: the test proves nothing")
	}
}

// readCounters reads through db, cached, the counter id when i is even and
// every counter when it is odd, and counts in tl the read and the counters
// it got older than the versions committed (whose writes had returned)
// before the read began. It reports a failed read and returns false.
func readCounters(t *testing.T, db *gorm.DB, i, id int, committed []atomic.Int64, tl *tally) bool {
	floors := make([]int64, len(committed))
	for j := range committed {
		floors[j] = committed[j].Load()
	}
	var cs []Counter
	var err error
	if i%2 == 0 {
		cs = make([]Counter, 1)
		err = db.Clauses(gormcache.Cache()).First(&cs[0], id).Error
	} else {
		err = db.Clauses(gormcache.Cache()).Order("id").Find(&cs).Error
	}
	if err != nil {
		t.Errorf("read: %v", err)
		return false
	}
	for _, c := range cs {
		if c.Version < floors[c.ID] {
			tl.stale.Add(1)
		}
	}
	tl.reads.Add(1)
	return true
}

// TestNoStaleReadsUnderRace races cached readers against writers. Before each
// read, a reader notes the versions whose writes had returned; the read must
// return at least those. A reader that missed before a write and stored its
// old rows afterwards (the stale-set race) would fail this.
func TestNoStaleReadsUnderRace(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&Counter{}))
		const rows, writesPerRow, readers = 4, 60, 4
		for i := 1; i <= rows; i++ {
			require.NoError(t, e.db.Create(&Counter{ID: uint(i)}).Error)
		}
		var committed [rows + 1]atomic.Int64
		var tl tally
		race(t, e.p, readers, &tl, func() {
			var writers sync.WaitGroup
			for id := 1; id <= rows; id++ {
				writers.Go(func() {
					for v := int64(1); v <= writesPerRow; v++ {
						var err error
						if v%3 == 0 {
							err = e.db.Transaction(func(tx *gorm.DB) error {
								return tx.Model(&Counter{ID: uint(id)}).Update("version", v).Error
							})
						} else {
							err = e.db.Model(&Counter{ID: uint(id)}).Update("version", gorm.Expr("version + 1")).Error
						}
						if err != nil {
							t.Errorf("write: %v", err)
							return
						}
						committed[id].Store(v)
					}
				})
			}
			writers.Wait()
		}, func(i int) bool {
			return readCounters(t, e.db, i, 1+i%rows, committed[:], &tl)
		})
	})
}

// raceDurationEnv sets how long TestNoStaleReadsUnderTableInvalidations
// runs in each configuration; scripts/test.sh sets it to 30s under CI=true.
const raceDurationEnv = "GORMCACHE_RACE_DURATION"

// Tally is a row with an owner, read by owner and by primary key; its
// Version only grows and each row has one writer.
type Tally struct {
	ID      uint
	Owner   int
	Version int64
}

// TestNoStaleReadsUnderTableInvalidations races readers that select rows by
// a condition and by primary key against row-level writers, while whole-table
// invalidations (InvalidateTable, a raw Exec, an upsert) renew the table's
// stamp and, with it, its registry of schemes. A registration that loses a
// race with such an invalidation would leave entries keyed by conditions
// that row-level writes no longer reach; every read must return at least
// the versions whose writes had returned before it began.
func TestNoStaleReadsUnderTableInvalidations(t *testing.T) {
	duration := 3 * time.Second
	if v := os.Getenv(raceDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, raceDurationEnv)
		duration = d
	}
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&Tally{}))
		const rows, owners = 8, 4
		for i := 1; i <= rows; i++ {
			require.NoError(t, e.db.Create(&Tally{ID: uint(i), Owner: i % owners}).Error)
		}
		var committed [rows + 1]atomic.Int64
		var reads, stale, hits atomic.Int64
		// The race runs for duration, and up to twice as long again until a
		// read has hit: on a slow engine and store under load, hits are rare
		// between the table invalidations.
		start := time.Now()
		stop := start.Add(duration)
		running := func() bool {
			now := time.Now()
			return now.Before(stop) || hits.Load() == 0 && now.Before(stop.Add(2*duration))
		}
		var wg sync.WaitGroup
		for id := 1; id <= rows; id++ {
			wg.Go(func() {
				for v := int64(1); running(); v++ {
					if err := e.db.Model(&Tally{ID: uint(id)}).Update("version", v).Error; err != nil {
						t.Errorf("write: %v", err)
						return
					}
					committed[id].Store(v)
				}
			})
		}
		wg.Go(func() {
			for i := 0; running(); i++ {
				var err error
				switch i % 3 {
				case 0:
					err = gormcache.InvalidateTable(e.db, "tallies")
				case 1:
					err = e.db.Exec("UPDATE tallies SET version = version WHERE id < 0").Error
				case 2:
					err = e.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Tally{ID: 1}).Error
				}
				if err != nil {
					t.Errorf("table invalidation: %v", err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
		for r := range 4 {
			wg.Go(func() {
				for i := r; running(); i++ {
					var floors [rows + 1]int64
					for j := range floors {
						floors[j] = committed[j].Load()
					}
					before := e.stats().Hits
					var ts []Tally
					var err error
					if i%2 == 0 {
						err = e.cached().Where("owner = ?", i%owners).Find(&ts).Error
					} else {
						ts = make([]Tally, 1)
						err = e.cached().First(&ts[0], 1+i%rows).Error
					}
					if err != nil {
						t.Errorf("read: %v", err)
						return
					}
					if e.stats().Hits > before {
						hits.Add(1)
					}
					reads.Add(1)
					for _, tl := range ts {
						if tl.Version < floors[tl.ID] {
							stale.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		t.Logf("%v: %d reads, about %d hits, %d stale; %+v", time.Since(start).Round(time.Millisecond), reads.Load(), hits.Load(), stale.Load(), e.stats())
		require.Zero(t, stale.Load(), "stale reads")
		require.NotZero(t, hits.Load(), "no read hit the cache: the test proves nothing")
	})
}

// TestNoStaleTrashUnderRace races cached readers of a soft-deleted model
// (gorm.io/plugin/soft_delete's flag) against writers that move its rows
// to the trash one by one: a count of an owner's rows in the trash selects
// on the value a soft delete writes, a count of its live rows on the value
// it replaces. Before each read, a reader notes how many rows of the owner
// writes that had returned moved; the read must count at least those in
// the trash, and at most the others alive.
func TestNoStaleTrashUnderRace(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&Task{}))
		const owners, perOwner, readers = 3, 25, 4
		ids := make([][]uint, owners+1)
		for o := 1; o <= owners; o++ {
			tasks := make([]Task, perOwner)
			for i := range tasks {
				tasks[i].OwnerID = uint(o)
			}
			require.NoError(t, e.db.Create(&tasks).Error)
			for _, tk := range tasks {
				ids[o] = append(ids[o], tk.ID)
			}
		}
		var moved [owners + 1]atomic.Int64
		var tl tally
		race(t, e.p, readers, &tl, func() {
			var writers sync.WaitGroup
			for o := 1; o <= owners; o++ {
				writers.Go(func() {
					for n, id := range ids[o] {
						if err := e.db.Delete(&Task{ID: id}).Error; err != nil {
							t.Errorf("soft delete: %v", err)
							return
						}
						moved[o].Store(int64(n + 1))
					}
				})
			}
			writers.Wait()
		}, func(i int) bool {
			o := 1 + i%owners
			floor := moved[o].Load()
			var n int64
			var err error
			if i%2 == 0 {
				err = e.cached().Unscoped().Model(&Task{}).Where("owner_id = ? AND is_del = ?", o, 1).Count(&n).Error
				if err == nil && n < floor {
					tl.stale.Add(1)
				}
			} else {
				err = e.cached().Model(&Task{}).Where("owner_id = ?", o).Count(&n).Error
				if err == nil && n > perOwner-floor {
					tl.stale.Add(1)
				}
			}
			if err != nil {
				t.Errorf("read: %v", err)
				return false
			}
			tl.reads.Add(1)
			return true
		})
	})
}
