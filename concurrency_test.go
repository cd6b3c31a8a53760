package gormcache_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// Counter is a row whose Version only grows; each row has one writer.
type Counter struct {
	ID      uint
	Version int64
}

// tally counts the reads of a race test and the stale rows they returned.
type tally struct{ reads, stale atomic.Int64 }

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
		done := make(chan struct{})

		var writers sync.WaitGroup
		for id := 1; id <= rows; id++ {
			writers.Add(1)
			go func() {
				defer writers.Done()
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
			}()
		}

		var wg sync.WaitGroup
		for r := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-done:
						if i >= 40 { // some reads after the last write, which can hit
							return
						}
					default:
					}
					if !readCounters(t, e.db, i+r, 1+(i+r)%rows, committed[:], &tl) {
						return
					}
				}
			}()
		}
		writers.Wait()
		close(done)
		wg.Wait()

		s := e.stats()
		t.Logf("%d reads, %d hits, %d misses, hit ratio %.2f", tl.reads.Load(), s.Hits, s.Misses, s.HitRatio())
		if n := tl.stale.Load(); n != 0 {
			t.Fatalf("%d stale reads", n)
		}
		if s.Hits == 0 {
			t.Fatal("no read hit the cache: the test proves nothing")
		}
	})
}
