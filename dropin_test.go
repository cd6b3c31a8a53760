package gormcache_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// The tests of this file check that the plugin is a drop-in: a GORM
// application that registers it, even caching everything, behaves exactly as
// without it.

// widget and widgetV2 are one table before and after a migration.
type widget struct {
	ID   uint
	Name string
}

type widgetV2 struct {
	ID    uint
	Name  string
	Color string `gorm:"index"`
}

func (widgetV2) TableName() string { return "widgets" }

// TestMigrationsUnderCacheAll runs a model's migrations with every query
// cached: the Migrator's reads of the system catalogues are never served
// from the cache, and DDL invalidates what read the table it changes.
func TestMigrationsUnderCacheAll(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		m := e.db.Migrator()

		require.False(t, m.HasTable(&widget{}))
		require.NoError(t, e.db.AutoMigrate(&widget{}))
		require.True(t, m.HasTable(&widget{}), "HasTable served from before CreateTable")
		require.NoError(t, e.db.AutoMigrate(&widget{}), "a second AutoMigrate must find the table")
		require.NoError(t, e.db.Create(&widget{Name: "a"}).Error)

		var before []map[string]any
		require.NoError(t, e.db.Table("widgets").Find(&before).Error)
		require.Len(t, before, 1)
		require.NotContains(t, before[0], "color")

		require.False(t, m.HasColumn(&widgetV2{}, "Color"))
		require.False(t, m.HasIndex(&widgetV2{}, "Color"))
		require.NoError(t, e.db.AutoMigrate(&widgetV2{}))
		assert.True(t, m.HasColumn(&widgetV2{}, "Color"), "HasColumn served from before AddColumn")
		assert.True(t, m.HasIndex(&widgetV2{}, "Color"), "HasIndex served from before CreateIndex")
		types, err := m.ColumnTypes(&widgetV2{})
		require.NoError(t, err)
		var names []string
		for _, ct := range types {
			names = append(names, ct.Name())
		}
		assert.Contains(t, names, "color", "ColumnTypes served from before AddColumn")

		var after []map[string]any
		err = e.db.Table("widgets").Find(&after).Error
		if err != nil && strings.Contains(err.Error(), "cached plan must not change result type") {
			// pgx's statement cache answers so once per connection after
			// ALTER TABLE, with or without the plugin.
			err = e.db.Table("widgets").Find(&after).Error
		}
		require.NoError(t, err)
		require.Len(t, after, 1)
		assert.Contains(t, after[0], "color", "a read of the table served from before ALTER TABLE")

		require.NoError(t, m.DropIndex(&widgetV2{}, "Color"))
		assert.False(t, m.HasIndex(&widgetV2{}, "Color"), "HasIndex served from before DropIndex")
		require.NoError(t, m.DropTable(&widgetV2{}))
		assert.False(t, m.HasTable(&widgetV2{}), "HasTable served from before DropTable")
		require.NoError(t, e.db.AutoMigrate(&widget{}))
	})
}

// TestNondeterministicReadsAreNotCached checks that a read whose result
// changes without a write — the clock, a random number, a sequence — is
// answered by the database every time.
func TestNondeterministicReadsAreNotCached(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()
		distinct := func(sql string, vars ...any) {
			t.Helper()
			seen := map[string]bool{}
			for range 5 {
				var v string
				require.NoError(t, e.db.Raw(sql, vars...).Scan(&v).Error)
				seen[v] = true
			}
			assert.Greater(t, len(seen), 1, "%s always gave one answer: it was cached", sql)
		}
		// A sequence's relation changes with every value it hands out.
		advances := func(read, advance string) {
			t.Helper()
			var before, after string
			require.NoError(t, e.db.Raw(read).Scan(&before).Error)
			require.NoError(t, e.db.Raw(read).Scan(&before).Error)
			require.NoError(t, e.db.Exec(advance).Error)
			require.NoError(t, e.db.Raw(read).Scan(&after).Error)
			assert.NotEqual(t, before, after, "%s did not change after %s: it was cached", read, advance)
		}
		random := "random()"
		if b.Name == "mysql" {
			random = "rand()"
		}
		distinct("SELECT " + random)
		distinct("SELECT " + random + " FROM users LIMIT 1")
		if b.Name == "mysql" {
			distinct("SELECT uuid()")
			distinct("SELECT CONCAT(@@hostname, @gormcache_n := COALESCE(@gormcache_n, 0) + 1)")
		}
		if b.Name == "postgres" {
			require.NoError(t, e.db.Exec("CREATE SEQUENCE widget_seq").Error)
			distinct("SELECT nextval('widget_seq')")
			distinct(`SELECT "nextval"('widget_seq')`)
			distinct("SELECT clock_timestamp()::text")
			distinct("SELECT extract(epoch FROM CAST(? AS timestamptz))::text", "now")
			advances("SELECT last_value::text FROM widget_seq", "SELECT nextval('widget_seq')")
			advances("SELECT last_value::text FROM users_id_seq", "INSERT INTO users (name) VALUES ('seq')")
			require.NoError(t, e.db.Exec("CREATE VIEW widget_counter AS SELECT last_value FROM widget_seq").Error)
			advances("SELECT last_value::text FROM widget_counter", "SELECT nextval('widget_seq')")
			var elsewhere string // a schema off the search path
			require.NoError(t, e.db.Raw("SELECT current_schema() || '_elsewhere'").Scan(&elsewhere).Error)
			require.NoError(t, e.db.Exec("CREATE SCHEMA "+elsewhere).Error)
			t.Cleanup(func() { e.db.Exec("DROP SCHEMA " + elsewhere + " CASCADE") })
			require.NoError(t, e.db.Exec("CREATE SEQUENCE "+elsewhere+".gadget_seq").Error)
			// Its first value leaves last_value as it was.
			require.NoError(t, e.db.Exec("SELECT nextval('"+elsewhere+".gadget_seq')").Error)
			advances("SELECT last_value::text FROM "+elsewhere+".gadget_seq", "SELECT nextval('"+elsewhere+".gadget_seq')")
		}
		if b.Name == "sqlite" {
			// The clock's milliseconds, which five reads may share.
			bypassed := func(sql string, vars ...any) {
				t.Helper()
				before := e.stats()
				for range 2 {
					var v string
					require.NoError(t, e.db.Raw(sql, vars...).Scan(&v).Error)
				}
				after := e.stats()
				assert.Equal(t, before.Bypassed+2, after.Bypassed, "%s was cached", sql)
			}
			bypassed("SELECT strftime('%f')")
			bypassed("SELECT strftime('%f', ?)", "now")
			bypassed("SELECT datetime()")
		}
		if b.Name == "mysql" {
			require.NoError(t, e.db.Exec("CREATE SEQUENCE widget_seq").Error)
			distinct("SELECT NEXT VALUE FOR widget_seq")
			require.NoError(t, e.db.Exec("CREATE SEQUENCE uncached_seq NOCACHE").Error)
			advances("SELECT next_not_cached_value FROM uncached_seq", "SELECT NEXT VALUE FOR uncached_seq")
		}
	})
}

// TestSQLiteConcurrentWriters runs concurrent updates on a SQLite file whose
// transactions begin deferred (the driver's default): reading the old rows
// first would hold a read lock that SQLite refuses to upgrade, without
// waiting, while another connection writes.
func TestSQLiteConcurrentWriters(t *testing.T) {
	for _, journal := range []string{"DELETE", "WAL"} {
		t.Run(journal, func(t *testing.T) {
			dsn := filepath.Join(t.TempDir(), "w.db") + "?_busy_timeout=10000&_journal_mode=" + journal
			db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					_ = sqlDB.Close()
				}
			})
			p := gormcache.New(gormcache.Config{})
			require.NoError(t, db.Use(p))
			require.NoError(t, db.AutoMigrate(&Counter{}))
			const workers, writes = 8, 50
			for i := 1; i <= workers; i++ {
				require.NoError(t, db.Create(&Counter{ID: uint(i)}).Error)
			}
			// A cached read of each row registers its scheme: writes then
			// read the rows they change.
			for i := 1; i <= workers; i++ {
				require.NoError(t, db.Clauses(gormcache.Cache()).First(&Counter{}, i).Error)
			}
			var failed atomic.Int64
			var wg sync.WaitGroup
			for i := 1; i <= workers; i++ {
				wg.Go(func() {
					for range writes {
						if err := db.Model(&Counter{ID: uint(i)}).Update("version", gorm.Expr("version + 1")).Error; err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			assert.Zero(t, failed.Load(), "updates failed")
			var c Counter
			require.NoError(t, db.Clauses(gormcache.Cache()).First(&c, 1).Error)
			assert.Equal(t, int64(writes)-failed.Load()/workers, c.Version)
		})
	}
}

// TestFailedImageReadKeepsTransaction writes, on PostgreSQL, where the
// plugin's read of the old rows fails while the write itself succeeds: the
// user's transaction must go on, and the write still invalidates.
func TestFailedImageReadKeepsTransaction(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "postgres" {
			t.Skip("PostgreSQL aborts a transaction at its first failed statement")
		}
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		photosOf := func(db *gorm.DB, user uint) []Photo {
			var ps []Photo
			require.NoError(t, db.Where("user_id = ?", user).Order("id").Find(&ps).Error)
			return ps
		}
		require.Len(t, photosOf(e.cached(), 2), 1)

		// UPDATE ... FROM: the conditions name another table.
		err := e.db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&Photo{}).Clauses(clause.From{Tables: []clause.Table{{Name: "users"}}}).
				Where("photos.user_id = users.id AND users.name = ?", "grace").
				Update("title", "from").Error; err != nil {
				return err
			}
			return tx.Create(&Tag{Name: "after"}).Error
		})
		require.NoError(t, err)
		assert.Equal(t, "from", photosOf(e.cached(), 2)[0].Title, "stale after UPDATE ... FROM")

		// A view whose rows cannot be locked, written through an INSTEAD
		// OF trigger: the write works, the read of its old rows cannot.
		require.NoError(t, e.db.Exec(`CREATE VIEW photo_titles AS SELECT DISTINCT id, user_id, title FROM photos`).Error)
		require.NoError(t, e.db.Exec(`CREATE FUNCTION photo_titles_update() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN UPDATE photos SET title = NEW.title WHERE id = OLD.id; RETURN NEW; END $$`).Error)
		require.NoError(t, e.db.Exec(`CREATE TRIGGER photo_titles_update INSTEAD OF UPDATE ON photo_titles
			FOR EACH ROW EXECUTE FUNCTION photo_titles_update()`).Error)
		type PhotoTitle struct {
			ID     uint
			UserID uint
			Title  string
		}
		titles := func() []PhotoTitle {
			var ts []PhotoTitle
			require.NoError(t, e.cached().Where("user_id = ?", 2).Find(&ts).Error)
			return ts
		}
		require.Equal(t, "from", titles()[0].Title)
		for _, title := range []string{"view 1", "view 2"} {
			err = e.db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&PhotoTitle{}).Where("id = ?", titles()[0].ID).Update("title", title).Error; err != nil {
					return err
				}
				return tx.Create(&Tag{Name: title}).Error
			})
			require.NoError(t, err)
			assert.Equal(t, title, titles()[0].Title, "stale after a write through the view")
		}
	})
}

// TestFailingWritesFailAsTheDatabaseSays writes with conditions the
// database refuses, on tables whose rows the plugin has read before: each
// write fails with the database's reason, the one it fails with without
// the plugin, not with one the plugin's read of its rows caused
// (PostgreSQL's "current transaction is aborted"), and the next good
// write still works.
func TestFailingWritesFailAsTheDatabaseSays(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		writes := map[string]func(db *gorm.DB) error{
			"update": func(db *gorm.DB) error {
				return db.Model(&Photo{}).Where("no_such_column = ?", 1).Update("status", 3).Error
			},
			"delete": func(db *gorm.DB) error {
				return db.Where("no_such_column = ?", 1).Delete(&Photo{}).Error
			},
		}
		for name, write := range writes {
			for i := range 2 { // the table's rows read before, and after a failure
				require.NoError(t, e.db.Model(&Photo{}).Where("id = ?", 1).Update("status", 4+i).Error)
				err := write(e.db)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "no_such_column", "%s, try %d: not the database's reason", name, i)
				assert.NotContains(t, err.Error(), "aborted", "%s, try %d", name, i)
			}
		}
	})
}

// leadingComment puts a comment before the UPDATE keyword, as gorm.io/hints
// and sqlcommenter-style tracing do.
type leadingComment struct{}

func (leadingComment) ModifyStatement(stmt *gorm.Statement) {
	c := stmt.Clauses["UPDATE"]
	c.BeforeExpression = clause.Expr{SQL: "/* traced */"}
	stmt.Clauses["UPDATE"] = c
}

func (leadingComment) Build(clause.Builder) {}

// TestWriteTargetsFromClauses writes through clauses that change what a
// statement writes: a leading comment, another table named by the INSERT,
// UPDATE or FROM clause, an INSERT modifier that replaces rows.
func TestWriteTargetsFromClauses(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		titled := func(title string) int {
			var ps []Photo
			require.NoError(t, e.cached().Where("title = ?", title).Find(&ps).Error)
			return len(ps)
		}
		require.Zero(t, titled("commented"))
		require.NoError(t, e.db.Model(&Photo{ID: 1}).Clauses(leadingComment{}).Update("title", "commented").Error)
		assert.Equal(t, 1, titled("commented"), "an UPDATE after a comment was taken for a delete")

		// archived_tags has the shape of tags; statements of the Tag model
		// write it through their clauses.
		require.NoError(t, e.db.Table("archived_tags").AutoMigrate(&Tag{}))
		archived := func(name string) int {
			var ts []Tag
			require.NoError(t, e.cached().Table("archived_tags").Where("name = ?", name).Find(&ts).Error)
			return len(ts)
		}
		into := clause.Table{Name: "archived_tags"}
		require.Zero(t, archived("x"))
		require.NoError(t, e.db.Clauses(clause.Insert{Table: into}).Create(&Tag{Name: "x"}).Error)
		assert.Equal(t, 1, archived("x"), "stale after an INSERT into the table clause.Insert names")

		require.NoError(t, e.db.Create(&Tag{Name: "x"}).Error) // the same row in tags
		require.Zero(t, archived("y"))
		require.NoError(t, e.db.Model(&Tag{}).Clauses(clause.Update{Table: into}).
			Where("name = ?", "x").Update("name", "y").Error)
		assert.Equal(t, 1, archived("y"), "stale after an UPDATE of the table clause.Update names")

		require.NoError(t, e.db.Model(&Tag{}).Where("name = ?", "x").Update("name", "y").Error)
		require.NoError(t, e.db.Clauses(clause.From{Tables: []clause.Table{into}}).
			Where("name = ?", "y").Delete(&Tag{}).Error)
		assert.Zero(t, archived("y"), "stale after a DELETE from the table clause.From names")

		if b.Name == "sqlite" {
			ada := func() int {
				var ps []Photo
				require.NoError(t, e.cached().Where("user_id = ?", 1).Find(&ps).Error)
				return len(ps)
			}
			before := ada()
			require.NoError(t, e.db.Clauses(clause.Insert{Modifier: "OR REPLACE"}).
				Create(&Photo{ID: 2, UserID: 2, Title: "replaced"}).Error)
			assert.Equal(t, before-1, ada(), "INSERT OR REPLACE deleted a row of ada's")
		}
	})
}

// gadget has a field GORM never writes (its column takes the database's
// default) and one the database may trim (PostgreSQL cuts trailing spaces
// past varchar(2)).
type gadget struct {
	ID   uint
	Kind string `gorm:"<-:false"`
	Code string `gorm:"size:2"`
}

// TestCreateInvalidatesWhatWasStored checks that a create invalidates the
// results its row belongs to as the database stored it, not as the Go value
// held it.
func TestCreateInvalidatesWhatWasStored(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		id := "id INTEGER PRIMARY KEY AUTOINCREMENT"
		switch b.Name {
		case "postgres":
			id = "id SERIAL PRIMARY KEY"
		case "mysql":
			id = "id INTEGER PRIMARY KEY AUTO_INCREMENT"
		}
		require.NoError(t, e.db.Exec("CREATE TABLE gadgets ("+id+", kind varchar(10) DEFAULT 'basic', code varchar(2))").Error)
		count := func(db *gorm.DB, col, v string) int {
			var gs []gadget
			require.NoError(t, db.Where(col+" = ?", v).Find(&gs).Error)
			return len(gs)
		}
		require.Zero(t, count(e.cached(), "kind", "basic"))
		require.Zero(t, count(e.cached(), "code", "ab"))
		require.NoError(t, e.db.Create(&gadget{Kind: "fancy", Code: "ab   "}).Error)
		assert.Equal(t, 1, count(e.cached(), "kind", "basic"), "stale: the create's value of a column GORM does not write")
		assert.Equal(t, count(e.uncached(), "code", "ab"), count(e.cached(), "code", "ab"), "stale: the database trimmed the value")
	})
}

// sprocket has a column the database computes from another (lname), which
// the model maps as any other.
type sprocket struct {
	ID    uint
	Name  string
	Lname string
}

// label has a column whose values the database may trim.
type label struct {
	ID   uint
	Code string
}

// TestUpdateInvalidatesWhatWasStored checks that an update invalidates the
// results its rows belong to as the database stored them, not as its SET
// clause assigned them: a generated column changes unassigned, and
// trailing spaces past a varchar(3) are cut (PostgreSQL, MySQL; with a
// NO PAD collation MySQL then compares them).
func TestUpdateInvalidatesWhatWasStored(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		id, code := "id INTEGER PRIMARY KEY AUTOINCREMENT", "varchar(3)"
		switch b.Name {
		case "postgres":
			id = "id SERIAL PRIMARY KEY"
		case "mysql":
			id, code = "id INTEGER PRIMARY KEY AUTO_INCREMENT", "varchar(3) COLLATE utf8mb4_general_nopad_ci"
		}
		require.NoError(t, e.db.Exec("CREATE TABLE sprockets ("+id+", name varchar(20), lname varchar(20) GENERATED ALWAYS AS (lower(name)) STORED)").Error)
		require.NoError(t, e.db.Exec("CREATE TABLE labels ("+id+", code "+code+")").Error)
		require.NoError(t, e.db.Exec("INSERT INTO sprockets (name) VALUES ('Ada')").Error)
		require.NoError(t, e.db.Exec("INSERT INTO labels (code) VALUES ('x')").Error)
		count := func(db *gorm.DB, model any, col, v string) int64 {
			var n int64
			require.NoError(t, db.Model(model).Where(col+" = ?", v).Count(&n).Error)
			return n
		}
		for _, read := range []func(*gorm.DB) int64{
			func(db *gorm.DB) int64 { return count(db, &sprocket{}, "lname", "bob") },
			func(db *gorm.DB) int64 { return count(db, &label{}, "code", "ab ") },
		} {
			require.Zero(t, read(e.cached()))
			e.mustHit(func() { read(e.cached()) })
		}
		// Twice: the first write of a table may be the one that reads
		// what the database tells of it.
		for _, name := range []string{"Bob", "BOB"} {
			require.NoError(t, e.db.Model(&sprocket{ID: 1}).Update("name", name).Error)
			assert.Equal(t, count(e.uncached(), &sprocket{}, "lname", "bob"), count(e.cached(), &sprocket{}, "lname", "bob"), "stale: the database computed the column")
			require.NoError(t, e.db.Model(&sprocket{ID: 1}).Update("name", "Ada").Error)
		}
		for range 2 {
			require.NoError(t, e.db.Model(&label{ID: 1}).Update("code", "ab   ").Error)
			assert.Equal(t, count(e.uncached(), &label{}, "code", "ab "), count(e.cached(), &label{}, "code", "ab "), "stale: the database cut the value")
			require.NoError(t, e.db.Model(&label{ID: 1}).Update("code", "x").Error)
		}
	})
}

// family and member: deleting a family deletes its members in the
// database. Only member declares it; the plugin never meets member's schema.
type family struct {
	ID   uint
	Name string
}

type member struct {
	ID       uint
	FamilyID uint
	Family   family `gorm:"constraint:OnDelete:CASCADE"`
}

// TestCascadesTheDatabaseDeclares deletes a parent row whose children the
// database deletes by a foreign key, while the children were read without
// their model (Table, Raw) by another instance sharing the store: the
// plugin learns the cascade from the database.
func TestCascadesTheDatabaseDeclares(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		d := b.Open(t)
		st := b.store.new(t)
		open := func() *gorm.DB {
			db, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: st})))
			return db
		}
		writer, reader := open(), open()
		require.NoError(t, writer.AutoMigrate(&family{}, &member{}))
		require.NoError(t, writer.Create(&family{Name: "a"}).Error)
		require.NoError(t, writer.Exec("INSERT INTO members (family_id) VALUES (1), (1)").Error)

		viaTable := func() int {
			var ms []map[string]any
			require.NoError(t, reader.Clauses(gormcache.Cache()).Table("members").Where("family_id = ?", 1).Find(&ms).Error)
			return len(ms)
		}
		viaRaw := func() int {
			var n int
			require.NoError(t, reader.Clauses(gormcache.Cache()).Raw("SELECT count(*) FROM members").Scan(&n).Error)
			return n
		}
		require.Equal(t, 2, viaTable())
		require.Equal(t, 2, viaRaw())
		require.NoError(t, writer.Delete(&family{ID: 1}).Error)
		assert.Zero(t, viaTable(), "stale: the cascade deleted rows read with Table")
		assert.Zero(t, viaRaw(), "stale: the cascade deleted rows read with Raw")
	})
}

// TestCloseReleasesGoroutines opens databases with a plugin each, uses and
// closes them: no goroutine of theirs is left.
func TestCloseReleasesGoroutines(t *testing.T) {
	settle := func() int {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()
	for range 20 {
		db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		p := gormcache.New(gormcache.Config{CacheAll: true})
		require.NoError(t, db.Use(p))
		require.NoError(t, db.AutoMigrate(&widget{}))
		require.NoError(t, db.Create(&widget{Name: "a"}).Error)
		for range 2 {
			require.NoError(t, db.Find(&[]widget{}).Error)
		}
		require.NotZero(t, p.Stats().Hits)
		sqlDB, err := db.DB()
		require.NoError(t, err)
		require.NoError(t, sqlDB.Close())
		require.NoError(t, p.Close())
		require.NoError(t, p.Close(), "a second Close")
	}
	var after int
	for range 20 {
		if after = settle(); after <= before {
			break
		}
	}
	assert.LessOrEqual(t, after, before, "goroutines left by 20 closed plugins")
}

// TestDatabasesDoNotShareRows runs two applications on two databases with
// one store and the same prefix: the same query in each is answered with
// its own database's rows.
func TestDatabasesDoNotShareRows(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		st := b.store.new(t)
		open := func(name string) *gorm.DB {
			db, err := gorm.Open(b.Open(t), &gorm.Config{Logger: logger.Discard})
			require.NoError(t, err)
			require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: st, CacheAll: true})))
			require.NoError(t, db.AutoMigrate(&widget{}))
			require.NoError(t, db.Create(&widget{Name: name}).Error)
			return db
		}
		x, y := open("x"), open("y")
		for range 2 {
			for db, want := range map[*gorm.DB]string{x: "x", y: "y"} {
				var w widget
				require.NoError(t, db.First(&w, 1).Error)
				require.Equal(t, want, w.Name, "an application got another database's row")
			}
		}
	})
}

// queryCounter is a connection pool that counts the queries it runs.
type queryCounter struct {
	*sql.DB
	queries atomic.Int64
}

func (q *queryCounter) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q.queries.Add(1)
	return q.DB.QueryContext(ctx, query, args...)
}

func (q *queryCounter) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	q.queries.Add(1)
	return q.DB.QueryRowContext(ctx, query, args...)
}

func (q *queryCounter) GetDBConn() (*sql.DB, error) { return q.DB, nil }

// TestNewSessionsHitWithoutTheDatabase checks that a hit through a new
// session (db.WithContext, as every request makes) reads nothing of the
// database: the identity of the database a key names is read once per
// pool, not once per session.
func TestNewSessionsHitWithoutTheDatabase(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		db, err := gorm.Open(b.Open(t), &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		pool, ok := db.ConnPool.(*sql.DB)
		require.True(t, ok, "the dialector's pool is a %T", db.ConnPool)
		counter := &queryCounter{DB: pool}
		db.ConnPool, db.Statement.ConnPool = counter, counter
		require.NoError(t, db.Use(gormcache.New(gormcache.Config{Store: b.store.new(t), CacheAll: true})))
		require.NoError(t, db.AutoMigrate(&widget{}))
		require.NoError(t, db.Create(&widget{Name: "x"}).Error)
		require.NoError(t, db.First(&widget{}, 1).Error)
		for _, session := range []func() *gorm.DB{
			func() *gorm.DB { return db.WithContext(context.Background()) },
			func() *gorm.DB { return db.Session(&gorm.Session{PrepareStmt: true}) },
		} {
			before := counter.queries.Load()
			for range 3 {
				var w widget
				require.NoError(t, session().First(&w, 1).Error)
				require.Equal(t, "x", w.Name)
			}
			if n := counter.queries.Load() - before; n != 0 {
				t.Errorf("hits through new sessions: got %d queries of the database, want 0", n)
			}
		}
	})
}

// auditEntry and oddName live in tables whose names need quoting.
type auditEntry struct {
	ID    uint
	Actor string
}

func (auditEntry) TableName() string { return "audit-log" }

type oddName struct {
	ID   uint
	Kind string
}

func (oddName) TableName() string { return "odd{name}%" }

// TestQuotedTableNames writes to tables whose names need quoting, on every
// store: their writes invalidate what read them.
func TestQuotedTableNames(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&auditEntry{}, &oddName{}))
		require.NoError(t, e.db.Create(&auditEntry{Actor: "ann"}).Error)
		require.NoError(t, e.db.Create(&oddName{Kind: "a"}).Error)
		actors := func() []string {
			var out []string
			require.NoError(t, e.cached().Model(&auditEntry{}).Where("id = ?", 1).Pluck("actor", &out).Error)
			return out
		}
		kinds := func() []string {
			var out []string
			require.NoError(t, e.cached().Model(&oddName{}).Pluck("kind", &out).Error)
			return out
		}
		require.Equal(t, []string{"ann"}, actors())
		require.Equal(t, []string{"a"}, kinds())
		require.NoError(t, e.db.Model(&auditEntry{ID: 1}).Update("actor", "bob").Error)
		require.NoError(t, e.db.Model(&oddName{ID: 1}).Update("kind", "b").Error)
		require.Equal(t, []string{"bob"}, actors(), "a write to audit-log left its reads cached")
		require.Equal(t, []string{"b"}, kinds(), "a write to odd{name}% left its reads cached")
		require.NoError(t, gormcache.InvalidateModel(e.db, &auditEntry{}))
		e.mustMiss(func() { actors() })
	})
}

// TestPreparedStatementsAreTheApplications checks that with PrepareStmt
// the plugin's own queries (the database's identity, its foreign keys)
// prepare no statement in the application's cache.
func TestPreparedStatementsAreTheApplications(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		require.NoError(t, e.db.AutoMigrate(&widget{}))
		tx := e.db.Session(&gorm.Session{PrepareStmt: true})
		require.NoError(t, tx.Create(&widget{Name: "a"}).Error)
		require.NoError(t, tx.First(&widget{}).Error)
		conn, ok := tx.ConnPool.(*gorm.PreparedStmtDB)
		require.True(t, ok)
		assert.Len(t, conn.Stmts.Keys(), 2, "prepared: %q", conn.Stmts.Keys())
	})
}

// TestDatabasesCascadeApart serves two databases with one plugin: their
// tables share names, and only one declares a cascade. A write to each
// follows its own database's foreign keys, whichever was read last.
func TestDatabasesCascadeApart(t *testing.T) {
	p := gormcache.New(gormcache.Config{})
	cascading, plain := openWith(t, testdb.Sqlite(t), p), openWith(t, testdb.Sqlite(t), p)
	for _, db := range []struct {
		*gorm.DB
		child string
	}{
		{cascading, `CREATE TABLE houses (id integer PRIMARY KEY, home_id integer REFERENCES homes ON DELETE CASCADE)`},
		{plain, `CREATE TABLE houses (id integer PRIMARY KEY, home_id integer)`},
	} {
		require.NoError(t, db.Exec(`CREATE TABLE homes (id integer PRIMARY KEY)`).Error)
		require.NoError(t, db.Exec(db.child).Error)
		require.NoError(t, db.Exec(`INSERT INTO homes (id) VALUES (1), (2)`).Error)
		require.NoError(t, db.Exec(`INSERT INTO houses (home_id) VALUES (1), (2)`).Error)
	}
	count := func(db *gorm.DB) int {
		var n int
		require.NoError(t, db.Clauses(gormcache.Cache()).Raw("SELECT count(*) FROM houses").Scan(&n).Error)
		return n
	}
	// The plain database's foreign keys were read last.
	require.Equal(t, 2, count(cascading))
	require.NoError(t, cascading.Exec(`DELETE FROM homes WHERE id = 1`).Error)
	assert.Equal(t, 1, count(cascading), "stale: the cascade deleted a row")

	require.Equal(t, 2, count(plain))
	require.NoError(t, plain.Exec(`DELETE FROM homes WHERE id = 1`).Error)
	hits := p.Stats().Hits
	assert.Equal(t, 2, count(plain))
	assert.Equal(t, hits+1, p.Stats().Hits, "a delete that cascades nowhere invalidated houses")
}

// appliance is a table in one database and a view in another.
type appliance struct {
	ID   uint
	Name string
}

// TestDatabasesImageApart writes, with one plugin, to two PostgreSQL
// databases where appliances is a table in one and, in the other, a view
// whose rows cannot be locked, written through an INSTEAD OF trigger:
// reading the table's rows in the first database's transactions proves
// nothing of the view's, whose read must not abort the second's.
func TestDatabasesImageApart(t *testing.T) {
	p := gormcache.New(gormcache.Config{})
	table, view := openWith(t, testdb.Postgres(t), p), openWith(t, testdb.Postgres(t), p)
	require.NoError(t, table.Exec(`CREATE TABLE appliances (id serial PRIMARY KEY, name text)`).Error)
	for _, ddl := range []string{
		`CREATE TABLE appliance_rows (id serial PRIMARY KEY, name text)`,
		`CREATE VIEW appliances AS SELECT DISTINCT id, name FROM appliance_rows`,
		`CREATE FUNCTION appliances_update() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN UPDATE appliance_rows SET name = NEW.name WHERE id = OLD.id; RETURN NEW; END $$`,
		`CREATE TRIGGER appliances_update INSTEAD OF UPDATE ON appliances FOR EACH ROW EXECUTE FUNCTION appliances_update()`,
		`INSERT INTO appliance_rows (name) VALUES ('a')`,
	} {
		require.NoError(t, view.Exec(ddl).Error)
	}
	require.NoError(t, table.Create(&appliance{Name: "a"}).Error)
	rename := func(db *gorm.DB, name string) error {
		return db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&appliance{ID: 1}).Update("name", name).Error; err != nil {
				return err
			}
			return tx.Exec(`SELECT 1`).Error
		})
	}
	require.NoError(t, rename(table, "b"))
	name := func() string {
		var g appliance
		require.NoError(t, view.Clauses(gormcache.Cache()).First(&g, 1).Error)
		return g.Name
	}
	require.Equal(t, "a", name())
	require.NoError(t, rename(view, "c"), "the write through the view failed")
	assert.Equal(t, "c", name())
}

// TestViewsAndTheirTables runs the freshness matrix on reads of a view and
// of its table: a write to the table changes what the view reads, and a
// write through the view (PostgreSQL, MySQL) the table under it. On
// PostgreSQL, partitions and their parent likewise.
func TestViewsAndTheirTables(t *testing.T) {
	reads := freshness.Reads{
		"the view, by user": func(t testing.TB, db *gorm.DB) any {
			var titles []string
			require.NoError(t, db.Raw("SELECT title FROM photo_titles WHERE user_id = ? ORDER BY id", 1).Scan(&titles).Error)
			return titles
		},
		"the view of the view": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Raw("SELECT count(*) FROM titled").Scan(&n).Error)
			return n
		},
		"the table, by id": func(t testing.TB, db *gorm.DB) any {
			var p Photo
			require.NoError(t, db.First(&p, 1).Error)
			return p.Title
		},
		"the other table": nameOfUser(1),
	}
	writes := freshness.Writes{
		"update the table": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 1}).Update("title", "renamed").Error)
		},
		"insert into the table, raw": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("INSERT INTO photos (user_id, title, status) VALUES (1, 'raw', 1)").Error)
		},
		"delete from the table": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Unscoped().Delete(&Photo{}, 2).Error)
		},
		"update through the view": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("UPDATE photo_titles SET title = 'through' WHERE id = 1").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		require.NoError(t, e.db.Exec("CREATE VIEW photo_titles AS SELECT id, user_id, title FROM photos").Error)
		require.NoError(t, e.db.Exec("CREATE VIEW titled AS SELECT title FROM photo_titles WHERE title <> ''").Error)
		if b.Name == "sqlite" {
			// SQLite writes through a view with a trigger alone.
			require.NoError(t, e.db.Exec(`CREATE TRIGGER photo_titles_update INSTEAD OF UPDATE ON photo_titles
				BEGIN UPDATE photos SET title = NEW.title WHERE id = OLD.id; END`).Error)
		}
		return e
	}, reads, writes)
}

// nameOfUser is a read of the name of the user id, by primary key.
func nameOfUser(id uint) func(t testing.TB, db *gorm.DB) any {
	return func(t testing.TB, db *gorm.DB) any {
		var u User
		require.NoError(t, db.First(&u, id).Error)
		return u.Name
	}
}

// countOf is a read of the number of rows of table, in raw SQL.
func countOf(table string) func(t testing.TB, db *gorm.DB) any {
	return func(t testing.TB, db *gorm.DB) any {
		var n int64
		require.NoError(t, db.Raw("SELECT count(*) FROM "+table).Scan(&n).Error)
		return n
	}
}

// TestPartitionsAndTheirParent runs the freshness matrix on reads of a
// partitioned table and of its partitions (PostgreSQL): a write to a
// partition changes what the parent reads, and a write to the parent the
// partition its rows go to.
func TestPartitionsAndTheirParent(t *testing.T) {
	reads := freshness.Reads{"the parent": countOf("readings"), "the low partition": countOf("readings_low"), "the high partition": countOf("readings_high")}
	writes := freshness.Writes{
		"insert into the parent": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("INSERT INTO readings VALUES (5)").Error)
		},
		"insert into a partition": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("INSERT INTO readings_high VALUES (150)").Error)
		},
		"delete from the parent": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Exec("DELETE FROM readings WHERE id = 1").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		if b.Name != "postgres" {
			t.Skip("partitions and inherited tables are PostgreSQL's")
		}
		e := newEnv(t, b, gormcache.Config{})
		for _, s := range []string{
			"CREATE TABLE readings (id int) PARTITION BY RANGE (id)",
			"CREATE TABLE readings_low PARTITION OF readings FOR VALUES FROM (0) TO (100)",
			"CREATE TABLE readings_high PARTITION OF readings FOR VALUES FROM (100) TO (200)",
			"INSERT INTO readings VALUES (1), (101)",
		} {
			require.NoError(t, e.db.Exec(s).Error)
		}
		return e
	}, reads, writes)
}

// triggerDDL creates, per dialect, the triggers of TestTriggers: one that
// audits each photo created (it writes another table), one that changes
// the title a photo is renamed to (the row written; SQLite's triggers
// cannot change NEW, so its trigger updates the row again), and, where a
// trigger can run SQL no catalogue tells, one that audits each user
// renamed through it (dynamic SQL on PostgreSQL, a procedure on MySQL);
// on PostgreSQL, a rule also audits each photo renamed.
var triggerDDL = map[string][]string{
	"sqlite": {
		`CREATE TRIGGER photos_audit AFTER INSERT ON photos
			BEGIN INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'created'); END`,
		`CREATE TRIGGER photos_exclaim AFTER UPDATE OF title ON photos
			BEGIN UPDATE photos SET title = NEW.title || '!' WHERE id = NEW.id; END`,
	},
	"postgres": {
		`CREATE FUNCTION audit_photo() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'created'); RETURN NEW; END $$`,
		`CREATE TRIGGER photos_audit AFTER INSERT ON photos FOR EACH ROW EXECUTE FUNCTION audit_photo()`,
		`CREATE FUNCTION exclaim() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN NEW.title := NEW.title || '!'; RETURN NEW; END $$`,
		`CREATE TRIGGER photos_exclaim BEFORE UPDATE ON photos FOR EACH ROW EXECUTE FUNCTION exclaim()`,
		`CREATE FUNCTION audit_user() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN EXECUTE 'INSERT INTO ' || TG_ARGV[0] || ' (photo_id, what) VALUES (0, ''user'')'; RETURN NEW; END $$`,
		`CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit_user('audits')`,
		`CREATE RULE photos_renamed AS ON UPDATE TO photos DO ALSO INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'renamed')`,
	},
	"mysql": {
		`CREATE TRIGGER photos_audit AFTER INSERT ON photos FOR EACH ROW
			INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'created')`,
		`CREATE TRIGGER photos_exclaim BEFORE UPDATE ON photos FOR EACH ROW SET NEW.title = CONCAT(NEW.title, '!')`,
		`CREATE PROCEDURE audit_user() INSERT INTO audits (photo_id, what) VALUES (0, 'user')`,
		`CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW CALL audit_user()`,
	},
}

// newTriggered opens a seeded env whose database has the triggers of
// triggerDDL, created through the plugin.
func newTriggered(t *testing.T, b backend, cfg gormcache.Config) *env {
	e := newEnv(t, b, cfg)
	e.seed()
	require.NoError(t, e.db.Exec("CREATE TABLE audits (photo_id int, what varchar(20))").Error)
	for _, s := range triggerDDL[b.Name] {
		require.NoError(t, e.db.Exec(s).Error)
	}
	return e
}

// TestTriggers runs the freshness matrix on reads of what triggers write:
// a write reaches the tables its triggers write, the rows a trigger
// changes as they are written, and everything when a trigger runs SQL no
// catalogue tells.
func TestTriggers(t *testing.T) {
	reads := freshness.Reads{
		"the audits": countOf("audits"),
		"photos titled renamed!": func(t testing.TB, db *gorm.DB) any {
			var n int64
			require.NoError(t, db.Model(&Photo{}).Where("title = ?", "renamed!").Count(&n).Error)
			return n
		},
		"the user, by id": nameOfUser(1),
	}
	writes := freshness.Writes{
		"create a photo": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&Photo{UserID: 1, Title: "new", Status: 1}).Error)
		},
		"rename a photo": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&Photo{ID: 1}).Update("title", "renamed").Error)
		},
		"rename a user": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&User{ID: 1}).Update("name", "ada2").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		return newTriggered(t, b, gormcache.Config{})
	}, reads, writes)
}

// TestTriggersKeepPrecision checks what each trigger makes of a write's
// invalidation: the table a trigger writes is reached and reported, a
// write to a table whose trigger changes the rows written is invalidated
// as a whole, and one whose trigger runs SQL no catalogue tells
// invalidates everything, with its reason.
func TestTriggersKeepPrecision(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		var ev events
		e := newTriggered(t, b, gormcache.Config{OnInvalidate: ev.on})
		// A cached read registers the scheme id: writes to the tables
		// then renew the conjunctions of their rows.
		require.NoError(t, e.cached().First(&User{}, 2).Error)
		require.NoError(t, e.cached().First(&Photo{}, 2).Error)
		ev.take()
		one := func(what string) invalidation.Event {
			t.Helper()
			list := ev.take()
			require.Len(t, list, 1, what)
			return list[0]
		}

		require.NoError(t, e.db.Create(&Photo{UserID: 1, Title: "new", Status: 1}).Error)
		got := one("create")
		assert.Equal(t, invalidation.Rows, got.Level, "create")
		assert.Contains(t, got.Cascaded, "audits", "create")
		e.mustHit(func() { require.NoError(t, e.cached().First(&Photo{}, 2).Error) })

		require.NoError(t, e.db.Model(&Photo{ID: 1}).Update("title", "renamed").Error)
		got = one("rename a photo")
		assert.Contains(t, got.Deps, store.Dep{Table: "photos"}, "rename a photo: the whole table")

		require.NoError(t, e.db.Model(&User{ID: 1}).Update("name", "ada2").Error)
		got = one("rename a user")
		if b.Name == "sqlite" {
			assert.Equal(t, invalidation.Rows, got.Level, "rename a user")
			e.mustHit(func() { require.NoError(t, e.cached().First(&User{}, 2).Error) })
		} else {
			assert.Equal(t, invalidation.All, got.Level, "rename a user")
			assert.Equal(t, invalidation.ReasonTrigger, got.Reason, "rename a user")
		}
	})
}

// TestTriggersOfWritesThatChangeNoRow checks that a write that changes no
// row still invalidates what the triggers it fired write: a statement-level
// trigger (PostgreSQL), an UPDATE trigger on a row the UPDATE leaves as it
// was, which MySQL does not count as affected, and a BEFORE INSERT trigger
// on a row an upsert then skips (SQLite). A write that changes no row of a
// table without triggers reports nothing.
func TestTriggersOfWritesThatChangeNoRow(t *testing.T) {
	ddl := map[string][]string{
		"postgres": {
			`CREATE FUNCTION sweep() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN INSERT INTO audits (photo_id, what) VALUES (0, 'swept'); RETURN NULL; END $$`,
			`CREATE TRIGGER photos_swept AFTER DELETE ON photos FOR EACH STATEMENT EXECUTE FUNCTION sweep()`,
		},
		"mysql": {`CREATE TRIGGER photos_touched AFTER UPDATE ON photos FOR EACH ROW
			INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'touched')`},
		"sqlite": {`CREATE TRIGGER photos_tried BEFORE INSERT ON photos
			BEGIN INSERT INTO audits (photo_id, what) VALUES (NEW.id, 'tried'); END`},
	}
	write := map[string]func(db *gorm.DB) *gorm.DB{
		"postgres": func(db *gorm.DB) *gorm.DB { return db.Unscoped().Where("title = ?", "none").Delete(&Photo{}) },
		"mysql":    func(db *gorm.DB) *gorm.DB { return db.Model(&Photo{ID: 1}).Update("title", "a1") },
		"sqlite": func(db *gorm.DB) *gorm.DB {
			return db.Clauses(clause.OnConflict{DoNothing: true}).Create(&Photo{ID: 1, UserID: 1, Title: "a1"})
		},
	}
	each(t, func(t *testing.T, b backend) {
		var ev events
		e := newEnv(t, b, gormcache.Config{OnInvalidate: ev.on})
		e.seed()
		require.NoError(t, e.db.Exec("CREATE TABLE audits (photo_id int, what varchar(20))").Error)
		for _, s := range ddl[b.Name] {
			require.NoError(t, e.db.Exec(s).Error)
		}
		audits := func(db *gorm.DB) (n int64) {
			require.NoError(t, db.Raw("SELECT count(*) FROM audits").Scan(&n).Error)
			return n
		}
		e.mustMiss(func() { audits(e.cached()) })

		ev.take()
		require.NoError(t, e.db.Model(&User{}).Where("name = ?", "nobody").Update("email", "x").Error)
		assert.Empty(t, ev.take(), "a write of no row without triggers")

		res := write[b.Name](e.db)
		require.NoError(t, res.Error)
		require.Zero(t, res.RowsAffected, "the write changed a row")
		assert.Equal(t, int64(1), audits(e.uncached()), "the trigger did not run")
		assert.Equal(t, audits(e.uncached()), audits(e.cached()), "stale audits")
		list := ev.take()
		require.Len(t, list, 1)
		assert.Equal(t, []string{"audits"}, list[0].Cascaded)
	})
}

// TestTriggersThroughViewsAndChildren runs the freshness matrix on a
// PostgreSQL table whose triggers write it back through a view, and write
// a child table whose rows the table's reads hold: the write changes rows
// of its own table that its images do not show.
func TestTriggersThroughViewsAndChildren(t *testing.T) {
	reads := freshness.Reads{
		"user 1, by id": nameOfUser(1),
		"user 1001, by id": func(t testing.TB, db *gorm.DB) any {
			var us []User
			require.NoError(t, db.Where("id = ?", 1001).Find(&us).Error)
			return len(us)
		},
	}
	writes := freshness.Writes{
		"create a user": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Create(&User{Name: "new"}).Error)
		},
		"rename user 1": func(t testing.TB, db *gorm.DB) {
			require.NoError(t, db.Model(&User{ID: 1}).Update("email", "renamed@example.com").Error)
		},
	}
	checkFreshness(t, func(t *testing.T, b backend) *env {
		if b.Name != "postgres" {
			t.Skip("inherited tables and triggers writing through views are PostgreSQL's")
		}
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		for _, s := range []string{
			"CREATE VIEW all_users AS SELECT * FROM users",
			`CREATE FUNCTION mark_others() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN UPDATE all_users SET name = name || '+' WHERE id <> NEW.id; RETURN NULL; END $$`,
			"CREATE TRIGGER users_marked AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION mark_others()",
			"CREATE TABLE users_hist () INHERITS (users)",
			`CREATE FUNCTION keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN INSERT INTO users_hist (id, name, email) VALUES (OLD.id + 1000, OLD.name, OLD.email); RETURN NULL; END $$`,
			"CREATE TRIGGER users_kept AFTER UPDATE ON users FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION keep_history()",
		} {
			require.NoError(t, e.db.Exec(s).Error)
		}
		return e
	}, reads, writes)
}

// TestMySQLImplicitCommits checks that the writes of a MySQL transaction
// that DDL or TRUNCATE committed are invalidated though the transaction is
// then rolled back: MySQL commits the transaction before such a statement,
// and runs what follows in autocommit mode.
func TestMySQLImplicitCommits(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "mysql" {
			t.Skip("DDL commits the transaction on MySQL alone")
		}
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := func(db *gorm.DB) []string { return firstUsersTitles(t, db) }
		for _, ddl := range []string{"CREATE TABLE scratch (id int)", "TRUNCATE TABLE audits"} {
			require.NoError(t, e.db.Exec("CREATE TABLE IF NOT EXISTS audits (id int)").Error)
			read(e.cached())
			e.mustHit(func() { read(e.cached()) })
			tx := e.db.Begin()
			require.NoError(t, tx.Model(&Photo{ID: 1}).Update("title", "before "+ddl).Error)
			require.NoError(t, tx.Exec(ddl).Error)
			require.NoError(t, tx.Model(&Photo{ID: 2}).Update("title", "after "+ddl).Error)
			require.NoError(t, tx.Rollback().Error)
			assert.Equal(t, read(e.uncached()), read(e.cached()), "stale after %s and a rollback", ddl)
		}
	})
}

// TestRawTransactionControl runs COMMIT, ROLLBACK and BEGIN as raw SQL
// inside a GORM transaction: a write is fresh as soon as the statement that
// commits it returns, whether a raw COMMIT, the autocommit that follows it,
// or GORM's Commit of a transaction begun again with a raw BEGIN.
func TestRawTransactionControl(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := func(db *gorm.DB) []string { return firstUsersTitles(t, db) }
		fresh := func(what string) {
			t.Helper()
			read(e.cached())
			assert.Equal(t, read(e.uncached()), read(e.cached()), "stale %s", what)
		}
		for _, end := range []string{"COMMIT", "ROLLBACK"} {
			fresh("before " + end)
			tx := e.db.Begin()
			require.NoError(t, tx.Model(&Photo{ID: 1}).Update("title", "before "+end).Error)
			require.NoError(t, tx.Exec(end).Error)
			fresh("after a raw " + end)
			require.NoError(t, tx.Model(&Photo{ID: 2}).Update("title", "after "+end).Error)
			fresh("after a write in autocommit")
			require.NoError(t, tx.Exec("BEGIN").Error)
			require.NoError(t, tx.Model(&Photo{ID: 3}).Update("title", "begun again after "+end).Error)
			fresh("inside the transaction begun again")
			require.NoError(t, tx.Commit().Error)
			fresh("after the commit of the transaction begun again")
		}
	})
}

// TestMySQLKeysOfOtherDatabases checks that a delete reaches a table of
// another MySQL database whose foreign key cascades from the deleted rows.
func TestMySQLKeysOfOtherDatabases(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "mysql" {
			t.Skip("a MySQL server's databases")
		}
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		var here string
		require.NoError(t, e.db.Raw("SELECT DATABASE()").Scan(&here).Error)
		other := fmt.Sprintf("gc_other_%d", time.Now().UnixNano())
		require.NoError(t, e.db.Exec("CREATE DATABASE "+other).Error)
		t.Cleanup(func() { e.db.Exec("DROP DATABASE " + other) })
		require.NoError(t, e.db.Exec("CREATE TABLE "+other+".kids (id int PRIMARY KEY, photo_id bigint unsigned, "+
			"FOREIGN KEY (photo_id) REFERENCES `"+here+"`.photos (id) ON DELETE CASCADE)").Error)
		require.NoError(t, e.db.Exec("INSERT INTO "+other+".kids VALUES (1, 1)").Error)
		kids := func(db *gorm.DB) (n int64) {
			require.NoError(t, db.Table(other+".kids").Count(&n).Error)
			return n
		}
		e.mustMiss(func() { kids(e.cached()) })
		require.NoError(t, e.db.Unscoped().Delete(&Photo{}, 1).Error)
		assert.Equal(t, kids(e.uncached()), kids(e.cached()), "stale kids")
	})
}

// firstUsersTitles reads the titles of the photos of user 1, in order.
func firstUsersTitles(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var titles []string
	require.NoError(t, db.Model(&Photo{}).Where("user_id = ?", 1).Order("id").Pluck("title", &titles).Error)
	return titles
}
