package gormcache_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
	"github.com/gormcache/gormcache/internal/testdb"
)

// TestSessionTimeZones reads one database through two pools whose sessions
// have different time zones, with one plugin: each pool's reads are
// answered as its sessions would answer them, not with what the other
// pool's cached; and a write through one reaches the reads of both.
func TestSessionTimeZones(t *testing.T) {
	at := time.Date(2024, 3, 1, 22, 30, 0, 0, time.UTC)
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			var utc, tokyo gorm.Dialector
			var table, hour string // stamps, and the hour of its at in the session's zone
			switch engine {
			case "postgres":
				utc = testdb.Postgres(t)
				dsn := utc.(*postgres.Dialector).DSN
				utc = postgres.New(postgres.Config{Conn: testdb.OpenPool(t, "pgx", dsn+" TimeZone=UTC")})
				tokyo = postgres.New(postgres.Config{Conn: testdb.OpenPool(t, "pgx", dsn+" TimeZone=Asia/Tokyo")})
				table = "CREATE TABLE stamps (id int PRIMARY KEY, at timestamptz)"
				hour = "SELECT to_char(at, 'HH24') FROM stamps WHERE id = ?"
			case "mysql":
				d := testdb.MySQL(t)
				zoned := func(zone string) gorm.Dialector {
					return testdb.MySQLReopen(t, d, func(c *gomysql.Config) {
						c.Params = map[string]string{"time_zone": "'" + zone + "'"}
					})
				}
				utc, tokyo = zoned("+00:00"), zoned("+09:00")
				table = "CREATE TABLE stamps (id int PRIMARY KEY, at TIMESTAMP NULL)"
				hour = "SELECT DATE_FORMAT(at, '%H') FROM stamps WHERE id = ?"
			}
			p := gormcache.New(gormcache.Config{})
			dbUTC, dbTokyo := openWith(t, utc, p), openWith(t, tokyo, p)
			require.NoError(t, dbUTC.Exec(table).Error)
			require.NoError(t, dbUTC.Table("stamps").Create(map[string]any{"id": 1, "at": at}).Error)
			hourOf := func(db *gorm.DB, c clause.Expression) string {
				var h string
				require.NoError(t, db.Clauses(c).Raw(hour, 1).Scan(&h).Error)
				return h
			}
			check := func(utcHour, tokyoHour string) {
				t.Helper()
				require.Equal(t, utcHour, hourOf(dbUTC, gormcache.NoCache()), "the database, in UTC")
				require.Equal(t, tokyoHour, hourOf(dbTokyo, gormcache.NoCache()), "the database, in Tokyo")
				for range 2 {
					require.Equal(t, utcHour, hourOf(dbUTC, gormcache.Cache()), "cached, in UTC")
					require.Equal(t, tokyoHour, hourOf(dbTokyo, gormcache.Cache()), "cached, in Tokyo")
				}
			}
			check("22", "07")
			// Through the UTC pool: MySQL reads a time sent to a TIMESTAMP
			// in the session's zone.
			require.NoError(t, dbUTC.Table("stamps").Where("id = ?", 1).Update("at", at.Add(time.Hour)).Error)
			check("23", "08")
		})
	}
}

// TestMySQLDriverZones reads a DATETIME through two pools on one database
// whose drivers read it in different zones (go-sql-driver/mysql's loc),
// and through one that reads it as text (no parseTime), with one plugin:
// each pool's reads answer what its driver makes of the column.
func TestMySQLDriverZones(t *testing.T) {
	testdb.RequireService(t, testdb.MySQLDSNEnv, "MySQL")
	d := testdb.MySQL(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	p := gormcache.New(gormcache.Config{})
	open := func(loc *time.Location, parseTime bool) *gorm.DB {
		return openWith(t, testdb.MySQLReopen(t, d, func(c *gomysql.Config) { c.Loc, c.ParseTime = loc, parseTime }), p)
	}
	inUTC, inTokyo, asText := open(time.UTC, true), open(tokyo, true), open(time.UTC, false)
	require.NoError(t, inUTC.Exec("CREATE TABLE stamps (id int PRIMARY KEY, at DATETIME)").Error)
	require.NoError(t, inUTC.Exec("INSERT INTO stamps VALUES (1, '2024-03-01 22:30:00')").Error)
	read := func(db *gorm.DB, c clause.Expression) any {
		var at any
		require.NoError(t, db.Clauses(c).Raw("SELECT at FROM stamps WHERE id = ?", 1).Row().Scan(&at))
		return at
	}
	requireOwnAnswers(t, map[string]*gorm.DB{"UTC": inUTC, "Tokyo": inTokyo, "text": asText}, read)
	require.Equal(t, time.Date(2024, 3, 1, 22, 30, 0, 0, tokyo), read(inTokyo, gormcache.Cache()))
	require.Equal(t, []byte("2024-03-01 22:30:00"), read(asText, gormcache.Cache()))
}

// TestSQLiteSettings reads one SQLite file through pools whose DSNs read it
// differently, with one plugin: go-sqlite3's _loc reads DATETIME columns in
// another zone, _cslike makes LIKE case-sensitive. Each pool's reads answer
// what its driver and settings make of the file; pools opened alike share
// their entries; a write through one pool reaches the reads of all.
func TestSQLiteSettings(t *testing.T) {
	file := "file:" + filepath.Join(t.TempDir(), "settings.db")
	p := gormcache.New(gormcache.Config{})
	plain := openWith(t, sqlite.Open(file), p)
	pools := map[string]*gorm.DB{
		"plain":          plain,
		"_loc=Tokyo":     openWith(t, sqlite.Open(file+"?_loc=Asia%2FTokyo"), p),
		"_cslike":        openWith(t, sqlite.Open(file+"?_cslike=true"), p),
		"an open pool":   openWith(t, sqlite.New(sqlite.Config{Conn: testdb.OpenPool(t, sqlite.DriverName, file+"?_loc=Asia%2FTokyo")}), p),
		"plain, again":   openWith(t, sqlite.Open(file), p),
		"_cslike, again": openWith(t, sqlite.Open(file+"?_cslike=true"), p),
	}
	require.NoError(t, plain.Exec("CREATE TABLE people (id int PRIMARY KEY, name text, seen DATETIME)").Error)
	require.NoError(t, plain.Exec("INSERT INTO people VALUES (1, 'Ada', '2024-03-01 22:30:00')").Error)
	type answer struct {
		Seen  time.Time
		Named int64
	}
	read := func(db *gorm.DB, c clause.Expression) answer {
		var a answer
		require.NoError(t, db.Clauses(c).Raw("SELECT seen FROM people WHERE id = ?", 1).Row().Scan(&a.Seen))
		require.NoError(t, db.Clauses(c).Raw("SELECT count(*) FROM people WHERE name LIKE ?", "ada").Row().Scan(&a.Named))
		return a
	}
	requireOwnAnswers(t, pools, read)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	require.Equal(t, answer{time.Date(2024, 3, 2, 7, 30, 0, 0, tokyo), 1}, read(pools["_loc=Tokyo"], gormcache.Cache()))
	require.Equal(t, answer{time.Date(2024, 3, 1, 22, 30, 0, 0, time.UTC), 0}, read(pools["_cslike"], gormcache.Cache()))
	// Pools opened with one DSN share entries: the second one's reads hit.
	var name string
	require.NoError(t, pools["plain"].Clauses(gormcache.Cache()).Raw("SELECT name FROM people WHERE id = ?", 1).Scan(&name).Error)
	freshness.MustHit(t, p, "a pool opened alike", func() {
		require.NoError(t, pools["plain, again"].Clauses(gormcache.Cache()).Raw("SELECT name FROM people WHERE id = ?", 1).Scan(&name).Error)
	})

	require.NoError(t, pools["_cslike"].Exec("UPDATE people SET name = 'ada', seen = '2024-03-02 01:00:00' WHERE id = 1").Error)
	requireOwnAnswers(t, pools, read)
}

// TestSQLiteInMemoryDatabases reads two in-memory SQLite databases with one
// plugin: each read is answered from its own database.
func TestSQLiteInMemoryDatabases(t *testing.T) {
	p := gormcache.New(gormcache.Config{})
	dbs := map[string]*gorm.DB{}
	for _, name := range []string{"a", "b"} {
		db := openWith(t, sqlite.Open("file:"+t.Name()+name+"?mode=memory&cache=shared"), p)
		require.NoError(t, db.Exec("CREATE TABLE kv (k text PRIMARY KEY, v text)").Error)
		require.NoError(t, db.Exec("INSERT INTO kv VALUES ('x', ?)", name).Error)
		dbs[name] = db
	}
	for range 2 {
		for name, db := range dbs {
			var v string
			require.NoError(t, db.Clauses(gormcache.Cache()).Raw("SELECT v FROM kv WHERE k = ?", "x").Scan(&v).Error)
			require.Equal(t, name, v)
		}
	}
}

// TestDatabaseUsers reads one database through two pools that log in as
// different users, with one plugin. What a user may see is filtered by the
// database for it: on PostgreSQL by a row-level security policy, on MySQL
// by a view of the rows of CURRENT_USER(). Neither user's reads may be
// answered with what the other's cached.
func TestDatabaseUsers(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			p := gormcache.New(gormcache.Config{})
			user := "gc_" + engine + "_" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
			var admin, tenant *gorm.DB
			var read string
			switch engine {
			case "postgres":
				d := testdb.Postgres(t)
				dsn := d.(*postgres.Dialector).DSN
				admin = openWith(t, d, p)
				var schema string
				require.NoError(t, admin.Raw("SELECT current_schema()").Scan(&schema).Error)
				for _, sql := range []string{
					"CREATE ROLE " + user + " LOGIN",
					`GRANT USAGE ON SCHEMA "` + schema + `" TO ` + user,
					"CREATE TABLE docs (id int PRIMARY KEY, owner text, body text)",
					"GRANT SELECT ON docs TO " + user,
					"ALTER TABLE docs ENABLE ROW LEVEL SECURITY",
					"CREATE POLICY own ON docs USING (owner = current_user)",
				} {
					require.NoError(t, admin.Exec(sql).Error, sql)
				}
				t.Cleanup(func() {
					for _, sql := range []string{"DROP OWNED BY " + user, "DROP ROLE " + user} {
						require.NoError(t, admin.Exec(sql).Error, sql)
					}
				})
				tenant = openWith(t, postgres.Open(dsn+" user="+user), p)
				read = "SELECT body FROM docs ORDER BY id"
			case "mysql":
				d := testdb.MySQL(t)
				admin = openWith(t, d, p)
				var database string
				require.NoError(t, admin.Raw("SELECT DATABASE()").Scan(&database).Error)
				// An account for each host a loopback client may be seen
				// from (with and without name resolution).
				accounts := "'" + user + "'@'localhost', '" + user + "'@'127.0.0.1'"
				for _, sql := range []string{
					"CREATE USER " + accounts,
					"CREATE TABLE docs (id int PRIMARY KEY, owner varchar(64), body text)",
					"CREATE SQL SECURITY INVOKER VIEW my_docs AS SELECT id, body FROM docs WHERE owner = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)",
					"GRANT SELECT ON `" + database + "`.* TO " + accounts,
				} {
					require.NoError(t, admin.Exec(sql).Error, sql)
				}
				t.Cleanup(func() { require.NoError(t, admin.Exec("DROP USER "+accounts).Error) })
				tenant = openWith(t, testdb.MySQLReopen(t, d, func(c *gomysql.Config) { c.User, c.Passwd = user, "" }), p)
				read = "SELECT body FROM my_docs ORDER BY id"
			}
			require.NoError(t, admin.Exec("INSERT INTO docs VALUES (1, ?, 'theirs'), (2, ?, 'mine')", "someone", user).Error)
			if engine == "mysql" {
				// The admin's own view shows the admin's rows: none.
				require.NoError(t, admin.Exec("UPDATE docs SET owner = SUBSTRING_INDEX(CURRENT_USER(), '@', 1) WHERE id = 1").Error)
			}
			bodies := func(db *gorm.DB, c clause.Expression) []string {
				var got []string
				require.NoError(t, db.Clauses(c).Raw(read).Scan(&got).Error)
				return got
			}
			requireOwnAnswers(t, map[string]*gorm.DB{"admin": admin, "tenant": tenant}, bodies)
			require.Equal(t, []string{"mine"}, bodies(tenant, gormcache.Cache()))
		})
	}
}

// requireOwnAnswers reads through each of pools twice, cached and not,
// and fails unless each cached read answers what its own pool's database
// read does: pools that must not share entries do not.
func requireOwnAnswers[T any](t *testing.T, pools map[string]*gorm.DB, read func(db *gorm.DB, c clause.Expression) T) {
	t.Helper()
	for range 2 {
		for name, db := range pools {
			require.Equal(t, read(db, gormcache.NoCache()), read(db, gormcache.Cache()), name)
		}
	}
}
