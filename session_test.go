package gormcache_test

import (
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
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
	for range 2 {
		for name, db := range map[string]*gorm.DB{"UTC": inUTC, "Tokyo": inTokyo, "text": asText} {
			require.Equal(t, read(db, gormcache.NoCache()), read(db, gormcache.Cache()), name)
		}
	}
	require.Equal(t, time.Date(2024, 3, 1, 22, 30, 0, 0, tokyo), read(inTokyo, gormcache.Cache()))
	require.Equal(t, []byte("2024-03-01 22:30:00"), read(asText, gormcache.Cache()))
}
