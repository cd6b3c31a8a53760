package gormcache_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
)

// replicaTopology is a PostgreSQL primary and its streaming replica, which
// applies every commit about 400 ms late, behind dbresolver, with the
// plugin registered before or after dbresolver.
type replicaTopology struct {
	db               *gorm.DB
	p                *gormcache.Plugin
	primary, replica *sql.DB
}

func newReplicaTopology(t *testing.T, cacheFirst bool) *replicaTopology {
	t.Helper()
	primaryD, replicaD := testdb.PostgresWithReplica(t)
	db, err := gorm.Open(primaryD, &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{})
	resolver := dbresolver.Register(dbresolver.Config{Replicas: []gorm.Dialector{replicaD}})
	useInOrder(t, db, cacheFirst, p, resolver)
	require.NoError(t, db.AutoMigrate(&Counter{}))
	primary, err := db.DB()
	require.NoError(t, err)
	topo := &replicaTopology{db: db, p: p, primary: primary, replica: replicaD.(*postgres.Dialector).Conn.(*sql.DB)}
	topo.sync(t)
	return topo
}

// useInOrder registers p and then resolver on db, or resolver first.
func useInOrder(t *testing.T, db *gorm.DB, cacheFirst bool, p *gormcache.Plugin, resolver *dbresolver.DBResolver) {
	t.Helper()
	plugins := []gorm.Plugin{p, resolver}
	if !cacheFirst {
		slices.Reverse(plugins)
	}
	for _, plugin := range plugins {
		require.NoError(t, db.Use(plugin))
	}
}

// sync waits until the replica has applied every write committed so far.
func (r *replicaTopology) sync(t *testing.T) { testdb.WaitReplica(t, r.primary, r.replica) }

// eachOrder runs fn with the plugin registered before dbresolver, then
// after it.
func eachOrder(t *testing.T, fn func(t *testing.T, r *replicaTopology)) {
	for _, first := range []bool{true, false} {
		name := "gormcache-first"
		if !first {
			name = "dbresolver-first"
		}
		t.Run(name, func(t *testing.T) { fn(t, newReplicaTopology(t, first)) })
	}
}

// TestReplicaLagIsNotCached reads through dbresolver while the replica lags
// behind a write: the cache never serves what the replica has not yet
// applied — a miss fills from the primary — and hits go on as usual.
func TestReplicaLagIsNotCached(t *testing.T) {
	eachOrder(t, func(t *testing.T, r *replicaTopology) {
		require.NoError(t, r.db.Create(&Counter{ID: 1}).Error)
		require.NoError(t, r.db.Create(&Counter{ID: 2}).Error)
		r.sync(t)
		version := func(db func() *gorm.DB, id uint) int64 {
			var c Counter
			require.NoError(t, db().First(&c, id).Error)
			return c.Version
		}
		cached := func() *gorm.DB { return r.db.Clauses(gormcache.Cache()) }
		plain := func() *gorm.DB { return r.db }
		require.Zero(t, version(cached, 1))
		require.Zero(t, version(cached, 2))

		require.NoError(t, r.db.Model(&Counter{ID: 1}).Update("version", 5).Error)
		assert.Zero(t, version(plain, 1), "the replica applied the write at once: the test proves nothing")
		before := r.p.Stats()
		assert.EqualValues(t, 5, version(cached, 1), "a miss after the write was served the replica's old row")
		assert.Zero(t, version(cached, 2))
		after := r.p.Stats()
		assert.Equal(t, before.Hits+1, after.Hits, "row 2 was not written: it stays cached")

		r.sync(t)
		assert.EqualValues(t, 5, version(plain, 1))
		assert.EqualValues(t, 5, version(cached, 1))

		// A write in a transaction: invalidated after its commit, with its
		// old rows read (the untouched row stays cached).
		require.NoError(t, r.db.Transaction(func(tx *gorm.DB) error {
			return tx.Model(&Counter{ID: 1}).Update("version", 6).Error
		}))
		assert.EqualValues(t, 6, version(cached, 1))
		before = r.p.Stats()
		assert.Zero(t, version(cached, 2))
		assert.Equal(t, before.Hits+1, r.p.Stats().Hits)
	})
}

// TestNoStaleReadsWithReplicas races cached readers against writers through
// dbresolver: every cached read returns at least the versions whose writes
// had returned before it began, as fresh as the primary although the
// replica lags 400 ms.
func TestNoStaleReadsWithReplicas(t *testing.T) {
	eachOrder(t, func(t *testing.T, r *replicaTopology) {
		const rows, writesPerRow, readers = 4, 30, 4
		for i := 1; i <= rows; i++ {
			require.NoError(t, r.db.Create(&Counter{ID: uint(i)}).Error)
		}
		r.sync(t)
		var committed [rows + 1]atomic.Int64
		var tl tally
		race(t, r.p, readers, &tl, func() {
			var writers sync.WaitGroup
			for id := 1; id <= rows; id++ {
				writers.Go(func() {
					for v := int64(1); v <= writesPerRow; v++ {
						var err error
						if v%2 == 0 {
							err = r.db.Transaction(func(tx *gorm.DB) error {
								return tx.Model(&Counter{ID: uint(id)}).Update("version", v).Error
							})
						} else {
							err = r.db.Model(&Counter{ID: uint(id)}).Update("version", v).Error
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
			return readCounters(t, r.db, i, 1+i%rows, committed[:], &tl)
		})
	})
}

// home and house are tables whose foreign key, ON DELETE CASCADE, only the
// database declares: their models say nothing of it.
type home struct{ ID uint }

type house struct {
	ID     uint
	HomeID uint
}

// TestSourcesCascadeApart routes homes and houses to a database of their
// own with dbresolver, beside a default one whose tables of those names
// cascade nowhere, and whose foreign keys a write reads first: a delete
// follows the foreign keys of the database it ran on, in GORM's own
// transaction as outside any, whichever plugin was registered first.
func TestSourcesCascadeApart(t *testing.T) {
	for _, first := range []bool{true, false} {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("gormcache-first=%v/skip-default-transaction=%v", first, skip), func(t *testing.T) {
				own := testdb.Sqlite(t)
				db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: skip})
				require.NoError(t, err)
				for d, child := range map[gorm.Dialector]string{
					db.Dialector: `CREATE TABLE houses (id integer PRIMARY KEY, home_id integer)`,
					own:          `CREATE TABLE houses (id integer PRIMARY KEY, home_id integer REFERENCES homes ON DELETE CASCADE)`,
				} {
					raw, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
					require.NoError(t, err)
					require.NoError(t, raw.Exec(`CREATE TABLE homes (id integer PRIMARY KEY)`).Error)
					require.NoError(t, raw.Exec(child).Error)
					require.NoError(t, raw.Exec(`INSERT INTO homes (id) VALUES (1), (2)`).Error)
					require.NoError(t, raw.Exec(`INSERT INTO houses (home_id) VALUES (1), (2)`).Error)
				}
				require.NoError(t, db.Exec(`CREATE TABLE notes (id integer PRIMARY KEY)`).Error)
				p := gormcache.New(gormcache.Config{})
				resolver := dbresolver.Register(dbresolver.Config{Sources: []gorm.Dialector{own}}, &home{}, &house{})
				useInOrder(t, db, first, p, resolver)
				houses := func() []house {
					var got []house
					require.NoError(t, db.Clauses(gormcache.Cache()).Order("id").Find(&got).Error)
					return got
				}
				require.Len(t, houses(), 2)
				require.NoError(t, db.Exec(`DELETE FROM notes`).Error)
				require.NoError(t, db.Delete(&home{ID: 1}).Error)
				assert.Equal(t, []house{{ID: 2, HomeID: 2}}, houses(), "stale: the cascade deleted a row")
			})
		}
	}
}

// villa is a model of a table dbresolver routes to a database of its own.
type villa struct {
	ID   uint
	Name string
}

// TestResolvedTransactionsInvalidateAfterCommit begins a transaction on a
// source dbresolver chooses (db.Clauses(dbresolver.Use(...),
// dbresolver.Write).Begin(), as dbresolver documents), whichever plugin was
// registered first, with prepared statements or without: a cached read
// between its write and its commit sees the committed row, and one after
// the commit the written row.
func TestResolvedTransactionsInvalidateAfterCommit(t *testing.T) {
	for _, first := range []bool{true, false} {
		for _, prepare := range []bool{false, true} {
			t.Run(fmt.Sprintf("gormcache-first=%v/prepare=%v", first, prepare), func(t *testing.T) {
				own := testdb.Sqlite(t)
				ownDB, err := gorm.Open(own, &gorm.Config{Logger: logger.Discard})
				require.NoError(t, err)
				require.NoError(t, ownDB.AutoMigrate(&villa{}))
				require.NoError(t, ownDB.Create(&villa{Name: "old"}).Error)
				db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard, PrepareStmt: prepare})
				require.NoError(t, err)
				p := gormcache.New(gormcache.Config{})
				useInOrder(t, db, first, p, dbresolver.Register(dbresolver.Config{Sources: []gorm.Dialector{own}}, &villa{}, "own"))
				name := func() string {
					var v villa
					require.NoError(t, db.Clauses(gormcache.Cache()).First(&v, 1).Error)
					return v.Name
				}
				require.Equal(t, "old", name())
				tx := db.Clauses(dbresolver.Use("own"), dbresolver.Write).Begin()
				require.NoError(t, tx.Error)
				require.NoError(t, tx.Model(&villa{ID: 1}).Update("name", "new").Error)
				require.Equal(t, "old", name(), "read the uncommitted row")
				require.NoError(t, tx.Commit().Error)
				assert.Equal(t, "new", name(), "stale: invalidated before the commit")
				assert.NotZero(t, p.Stats().Hits)
			})
		}
	}
}

// TestRememberReadsTheSource checks that a remembered value is not computed
// from a lagging replica: the reads of fn that the cache does not answer
// read the primary, as a cached read's miss does, so the value stored
// after a write is the write's.
func TestRememberReadsTheSource(t *testing.T) {
	eachOrder(t, func(t *testing.T, r *replicaTopology) {
		require.NoError(t, r.db.Create(&Counter{ID: 1}).Error)
		r.sync(t)
		sum := func(ctx context.Context) (int64, error) {
			var n int64
			err := r.db.WithContext(ctx).Model(&Counter{}).Select("coalesce(sum(version), 0)").Scan(&n).Error
			return n, err
		}
		remember := func() int64 {
			v, err := gormcache.Remember(r.db, "sum", sum, gormcache.DependsOn(&Counter{}))
			require.NoError(t, err)
			return v
		}
		require.Zero(t, remember())
		require.NoError(t, r.db.Model(&Counter{ID: 1}).Update("version", 5).Error)
		v, err := sum(context.Background())
		require.NoError(t, err)
		require.Zero(t, v, "the replica applied the write at once: the test proves nothing")
		assert.EqualValues(t, 5, remember(), "the value was computed from the lagging replica")
	})
}
