package gormcache_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/invalidation"
)

// openMySQL opens a new MariaDB database with the plugin and the shared
// models, seeded. Without returning, GORM is told that the server has no
// RETURNING, as on MySQL: it then takes the keys of created rows from
// LastInsertId.
func openMySQL(t *testing.T, returning bool, cfg gormcache.Config) *env {
	t.Helper()
	d := testdb.MySQL(t)
	d.(*mysql.Dialector).DisableWithReturning = !returning
	e := newEnvOn(t, d, cfg)
	e.seed()
	return e
}

// TestMySQLWrites runs the writes particular to MySQL — upserts, REPLACE,
// INSERT IGNORE, multi-table UPDATE and DELETE, qualified and
// backquoted names — with and without RETURNING: every cached read stays
// fresh, and each write is invalidated row by row or by table as stated.
func TestMySQLWrites(t *testing.T) {
	testdb.RequireService(t, testdb.MySQLDSNEnv, "MySQL")
	type write struct {
		run   func(t testing.TB, db *gorm.DB)
		level func(returning bool) invalidation.Level // of the write's last event
	}
	rows := func(bool) invalidation.Level { return invalidation.Rows }
	tables := func(bool) invalidation.Level { return invalidation.Tables }
	writes := map[string]write{
		"create": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&Photo{UserID: 1, Title: "a4", Status: 2}).Error)
		}, rows},
		"create of several rows": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&[]Photo{{UserID: 1, Title: "a4", Status: 2}, {UserID: 2, Title: "g2", Status: 1}}).Error)
		}, func(returning bool) invalidation.Level {
			if returning {
				return invalidation.Rows
			}
			return invalidation.Tables // keys counted up from LastInsertId
		}},
		"upsert: ON DUPLICATE KEY UPDATE": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&Photo{ID: 1, UserID: 2, Title: "up", Status: 2}).Error)
		}, tables},
		"INSERT IGNORE": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Clauses(clause.Insert{Modifier: "IGNORE"}).Create(&Photo{UserID: 1, Title: "ig", Status: 2}).Error)
		}, tables},
		"REPLACE": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("REPLACE INTO photos (id, user_id, title, status) VALUES (2, 2, 'replaced', 2)").Error)
		}, tables},
		"UPDATE a JOIN b": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("UPDATE photos p JOIN users u ON u.id = p.user_id SET p.status = 2, u.name = 'joined' WHERE u.id = 2").Error)
		}, tables},
		"DELETE a FROM a JOIN b": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("DELETE p FROM photos p JOIN users u ON u.id = p.user_id WHERE u.name = ?", "ada").Error)
		}, tables},
		"backquoted, qualified names": {func(t testing.TB, db *gorm.DB) {
			var name string
			require.NoError(t, db.Raw("SELECT DATABASE()").Scan(&name).Error)
			require.NoError(t, db.Exec("UPDATE `"+name+"`.`photos` SET `status` = 2 WHERE `id` = 1").Error)
		}, tables},
		"update by primary key": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 4}).Updates(map[string]any{"user_id": 1, "status": 2}).Error)
		}, rows},
		"update by an expression": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 4}).Updates(map[string]any{"user_id": gorm.Expr("user_id - 1"), "status": 2}).Error)
		}, rows},
		"update of several rows": {func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{}).Where("user_id = ?", 1).Updates(&Photo{UserID: 2, Title: "moved"}).Error)
		}, rows},
	}
	for _, returning := range []bool{true, false} {
		for name, w := range writes {
			t.Run(map[bool]string{true: "RETURNING", false: "LastInsertId"}[returning]+"/"+name, func(t *testing.T) {
				var ev events
				e := openMySQL(t, returning, gormcache.Config{OnInvalidate: ev.on})
				for _, read := range reads {
					read(t, e.cached())
					e.mustHit(func() { read(t, e.cached()) })
				}
				ev.take()
				w.run(t, e.db)
				got := ev.take()
				require.NotEmpty(t, got)
				assert.Equal(t, w.level(returning), got[len(got)-1].Level, "%+v", got[len(got)-1])
				for rname, read := range reads {
					if want := read(t, e.uncached()); !reflect.DeepEqual(read(t, e.cached()), want) {
						t.Errorf("%s: stale after %s", rname, name)
					}
				}
			})
		}
	}
}

// strictless is a model whose column is narrower than its field says:
// outside strict mode, MySQL cuts what does not fit.
type strictless struct {
	ID   uint
	Code string `gorm:"type:varchar(2)"`
}

// TestMySQLNonStrictMode creates and updates a row with a value MySQL
// cuts outside strict sql_mode: the value written is not the row's, and
// the results the stored row belongs to must not stay cached.
func TestMySQLNonStrictMode(t *testing.T) {
	testdb.RequireService(t, testdb.MySQLDSNEnv, "MySQL")
	e := openMySQL(t, true, gormcache.Config{})
	sqlDB, err := e.db.DB()
	require.NoError(t, err)
	sqlDB.SetMaxOpenConns(1) // one session: the one whose sql_mode is set
	require.NoError(t, e.db.Exec("SET SESSION sql_mode = ''").Error)
	require.NoError(t, e.db.AutoMigrate(&strictless{}))
	count := func(db *gorm.DB) int {
		var rows []strictless
		require.NoError(t, db.Where("code = ?", "ab").Find(&rows).Error)
		return len(rows)
	}
	require.Zero(t, count(e.cached()))
	e.mustHit(func() { count(e.cached()) })
	require.NoError(t, e.db.Create(&strictless{Code: "abc"}).Error)
	require.Equal(t, 1, count(e.uncached()), "MySQL stored the value cut")
	assert.Equal(t, 1, count(e.cached()), "stale: the create's value is not the row's")

	require.NoError(t, e.db.Create(&strictless{Code: "x"}).Error)
	require.Equal(t, 1, count(e.cached()))
	require.NoError(t, e.db.Model(&strictless{ID: 2}).Update("code", "abd").Error)
	require.Equal(t, 2, count(e.uncached()), "MySQL stored the value cut")
	assert.Equal(t, 2, count(e.cached()), "stale: the update's value is not the row's")
}

// Meter has the BIGINT UNSIGNED columns of Go's uint and uint64 fields,
// which MySQL's driver (1.8 on) reads as uint64 in its text protocol.
type Meter struct {
	ID    uint
	Count uint64
	Name  string `gorm:"size:32"`
}

// TestMySQLTextProtocol caches results that MySQL's driver reads in its
// text protocol (a statement without vars, and every statement with
// interpolateParams), whose BIGINT UNSIGNED values it returns as uint64:
// read into structs, values, maps and Rows, each is stored, hits, and
// answers what the database does, up to the largest uint64.
func TestMySQLTextProtocol(t *testing.T) {
	testdb.RequireService(t, testdb.MySQLDSNEnv, "MySQL")
	for _, interpolate := range []bool{false, true} {
		t.Run(map[bool]string{false: "prepared", true: "interpolateParams"}[interpolate], func(t *testing.T) {
			e := newEnvOn(t, testdb.MySQLWith(t, func(cfg *gomysql.Config) { cfg.InterpolateParams = interpolate }), gormcache.Config{})
			db := e.db
			require.NoError(t, db.AutoMigrate(&Meter{}))
			require.NoError(t, db.Create(&[]Meter{{Count: 3, Name: "a"}, {Count: math.MaxUint64, Name: "b"}}).Error)
			reads := map[string]func(db *gorm.DB) any{
				"every meter": func(db *gorm.DB) any {
					var ts []Meter
					require.NoError(t, db.Order("id").Find(&ts).Error)
					return ts
				},
				"meter 2": func(db *gorm.DB) any {
					var tl Meter
					require.NoError(t, db.First(&tl, 2).Error)
					return tl
				},
				"large counts": func(db *gorm.DB) any {
					var counts []uint64
					require.NoError(t, db.Model(&Meter{}).Where("count > ?", uint64(math.MaxInt64)).Pluck("count", &counts).Error)
					return counts
				},
				"as maps": func(db *gorm.DB) any {
					var ms []map[string]any
					require.NoError(t, db.Model(&Meter{}).Order("id").Find(&ms).Error)
					return ms
				},
				"rows": func(db *gorm.DB) any {
					var ids []any
					rows, err := db.Model(&Meter{}).Select("id", "count").Order("id").Rows()
					require.NoError(t, err)
					defer rows.Close()
					for rows.Next() {
						var id, count any
						require.NoError(t, rows.Scan(&id, &count))
						ids = append(ids, id, count)
					}
					return ids
				},
			}
			for name, read := range reads {
				want := read(e.uncached())
				e.mustMiss(func() { require.Equal(t, want, read(e.cached()), name) })
				e.mustHit(func() { require.Equal(t, want, read(e.cached()), name) })
			}
			require.NoError(t, db.Model(&Meter{ID: 2}).Update("count", uint64(math.MaxInt64)+1).Error)
			for name, read := range reads {
				require.Equal(t, read(e.uncached()), read(e.cached()), "%s after the update", name)
			}
		})
	}
}

// TestMySQLProtocolsAndDSNs checks that results the driver reads otherwise
// are never shared: a prepared statement's rows (the binary protocol)
// against those of the same statement unprepared (the text protocol), and
// two pools on one database whose DSNs differ in what the driver makes of
// values, vars and names, sharing one store.
func TestMySQLProtocolsAndDSNs(t *testing.T) {
	at := time.Date(2024, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
	for _, tc := range []struct {
		name      string
		base      func(c *gomysql.Config)
		configure func(c *gomysql.Config)
		read      func(db *gorm.DB) any
	}{
		{"interpolateParams", nil, func(c *gomysql.Config) { c.InterpolateParams = true }, func(db *gorm.DB) any {
			var rows []map[string]any
			require.NoError(t, db.Table("probes").Where("id = ?", 1).Find(&rows).Error)
			return fmt.Sprintf("%#v", rows)
		}},
		{"loc without parseTime", func(c *gomysql.Config) { c.ParseTime = false },
			func(c *gomysql.Config) {
				var err error
				c.Loc, err = time.LoadLocation("Asia/Tokyo")
				require.NoError(t, err)
			}, func(db *gorm.DB) any {
				var ids []int
				require.NoError(t, db.Table("probes").Where("at = ?", at).Pluck("id", &ids).Error)
				return ids
			}},
		{"timeTruncate", nil, func(c *gomysql.Config) { require.NoError(t, c.Apply(gomysql.TimeTruncate(time.Second))) }, func(db *gorm.DB) any {
			var ids []int
			require.NoError(t, db.Table("probes").Where("at = ?", at).Pluck("id", &ids).Error)
			return ids
		}},
		{"columnsWithAlias", nil, func(c *gomysql.Config) { c.ColumnsWithAlias = true }, func(db *gorm.DB) any {
			var rows []map[string]any
			require.NoError(t, db.Table("probes").Find(&rows).Error)
			return fmt.Sprintf("%#v", rows)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T, b backend) {
				if b.Name != "mysql" {
					t.Skip("go-sql-driver/mysql's DSN")
				}
				d := testdb.MySQL(t)
				if tc.base != nil {
					d = testdb.MySQLReopen(t, d, tc.base)
				}
				st := b.store.new(t)
				first := openWith(t, d, gormcache.New(gormcache.Config{CacheAll: true, Store: st}))
				second := openWith(t, testdb.MySQLReopen(t, d, tc.configure), gormcache.New(gormcache.Config{CacheAll: true, Store: st}))
				require.NoError(t, first.Exec("CREATE TABLE probes (id BIGINT UNSIGNED PRIMARY KEY, f FLOAT, at DATETIME(6))").Error)
				require.NoError(t, first.Exec("INSERT INTO probes VALUES (1, 123456789.123, '2024-01-01 09:00:00'), (2, 1, '2024-01-01 00:00:00.5')").Error)
				tc.read(first)
				want := tc.read(second.Clauses(gormcache.NoCache()))
				assert.Equal(t, want, tc.read(second), "the second pool was served the first pool's result")
			})
		})
	}
	each(t, func(t *testing.T, b backend) {
		if b.Name != "mysql" {
			t.Skip("go-sql-driver/mysql's protocols")
		}
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		require.NoError(t, e.db.Exec("CREATE TABLE probes (id BIGINT UNSIGNED PRIMARY KEY, f FLOAT)").Error)
		require.NoError(t, e.db.Exec("INSERT INTO probes VALUES (1, 123456789.123)").Error)
		read := func(db *gorm.DB) string {
			var rows []map[string]any
			require.NoError(t, db.Table("probes").Find(&rows).Error)
			return fmt.Sprintf("%#v", rows)
		}
		prepared := read(e.db.Session(&gorm.Session{PrepareStmt: true}))
		assert.Equal(t, prepared, read(e.uncached().Session(&gorm.Session{PrepareStmt: true})))
		assert.Equal(t, read(e.uncached()), read(e.db), "a statement was served its prepared twin's rows")
	})
}

// keptNote is a row of a MySQL table whose engine has no transactions.
type keptNote struct {
	ID   uint
	Text string
}

// TestMySQLTablesWithoutTransactions checks that the writes a rolled-back
// transaction made to a MyISAM or MEMORY table, which the rollback leaves,
// are invalidated, and that those to an InnoDB table are not.
func TestMySQLTablesWithoutTransactions(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "mysql" {
			t.Skip("MySQL's engines")
		}
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()
		count := func(db *gorm.DB) (n int64) {
			require.NoError(t, db.Model(&keptNote{}).Where("text = ?", "kept").Count(&n).Error)
			return n
		}
		for _, engine := range []string{"MyISAM", "MEMORY"} {
			require.NoError(t, e.db.Exec("DROP TABLE IF EXISTS kept_notes").Error)
			require.NoError(t, e.db.Exec("CREATE TABLE kept_notes (id int PRIMARY KEY AUTO_INCREMENT, text varchar(20)) ENGINE="+engine).Error)
			e.mustMiss(func() { count(e.db) })
			err := e.db.Transaction(func(tx *gorm.DB) error {
				require.NoError(t, tx.Create(&keptNote{Text: "kept"}).Error)
				return errors.New("roll back")
			})
			require.Error(t, err)
			require.Equal(t, int64(1), count(e.uncached()), "%s undid the create", engine)
			assert.Equal(t, count(e.uncached()), count(e.db), "stale after a rollback on %s", engine)
		}
		// InnoDB undoes the write: the cached read stays valid.
		read := func(db *gorm.DB) (n int64) {
			require.NoError(t, db.Model(&Photo{}).Where("title = ?", "never").Count(&n).Error)
			return n
		}
		read(e.db)
		require.Error(t, e.db.Transaction(func(tx *gorm.DB) error {
			require.NoError(t, tx.Create(&Photo{UserID: 1, Title: "never"}).Error)
			e.mustHit(func() { read(e.db) }) // nothing delivered before the commit
			return errors.New("roll back")
		}))
		e.mustHit(func() { read(e.db) })
	})
}
