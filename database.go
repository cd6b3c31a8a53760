package gormcache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Query keys hold the identity of the database the query read, so that two
// applications sharing a store never serve each other's rows, whatever
// their prefixes: a query's SQL says nothing of which database, server or
// schema it names, nor of the session settings that shape its answer.
// Instances of one application, reading one database with one
// configuration, agree on its identity and share their entries.
//
// The identity is read from the database once per connection pool, the
// one a miss reads (the source's, with read replicas), by identityQueries:
//
//   - SQLite: the file of the main database, and the parameters of the
//     DSN it was opened with, which set how the driver reads values
//     (go-sqlite3's _loc, the zone of DATETIME columns) and what SQL
//     means (_cslike, PRAGMAs); see sqliteSettings. An in-memory
//     database, or a file opened with settings the plugin cannot see, is
//     its pool's own;
//   - PostgreSQL: the database, the schemas of the search path, the server
//     (its port and start time), the user (row-level security policies
//     and views filter rows by current_user), and the session's TimeZone,
//     DateStyle and IntervalStyle, which render times and intervals as
//     text;
//   - MySQL: the database, the server's host name and port, the account
//     (CURRENT_USER(), which views filter rows by), the session's
//     time_zone (in which TIMESTAMP columns are read), sql_mode
//     (ANSI_QUOTES and PIPES_AS_CONCAT change what SQL means), and the
//     collation and character set literals are compared in and results
//     sent in; and what go-sql-driver/mysql's DSN makes of values and
//     names (see driverShape): a DATETIME (parseTime, loc, and with
//     loc=Local the zone of the host), an unsigned BIGINT (the text
//     protocol, interpolateParams, reads it as uint64, the binary one as
//     int64), a time sent as a var (loc, timeTruncate) and a column's
//     name (columnsWithAlias).
//
// A pool's settings are those of the connection the identity was read on:
// set them in the DSN, which applies them to every connection, rather than
// with SET on some. Other dialects are named by the dialect alone.
var identityQueries = map[string]identityQuery{
	"sqlite": {sql: `SELECT file FROM pragma_database_list WHERE name = 'main'`, settings: sqliteSettings},
	"postgres": {sql: `SELECT concat_ws('|', current_database(), current_schemas(true)::text,
		pg_postmaster_start_time()::text, inet_server_port(), current_user, current_setting('TimeZone'),
		current_setting('DateStyle'), current_setting('IntervalStyle'))`},
	"mysql": {sql: `SELECT CONCAT_WS('|', DATABASE(), @@hostname, @@port, CURRENT_USER(), @@session.time_zone,
		@@session.sql_mode, @@session.collation_connection, @@session.character_set_results),
		CAST('2000-01-01 00:00:00' AS DATETIME), CAST(1 AS UNSIGNED), CAST(? AS CHAR), x.one
		FROM (SELECT 1 AS one) AS x`, args: []any{time.Date(2000, 1, 1, 0, 0, 0, 500_000_000, time.UTC)}},
}

// identityQuery reads the identity of a database.
type identityQuery struct {
	sql  string
	args []any
	// The columns after the first are probes: values whose reading by the
	// driver, and whose names as the driver reports them, are part of the
	// identity (see driverShape).
	// settings, when set, returns what of the pool's configuration shapes
	// results and no SQL reads back, or false when it cannot be told: the
	// pool's identity is then its own.
	settings func(db *gorm.DB, pool gorm.ConnPool) (string, bool)
}

// driverShape describes the value the driver made of an identity query's
// probe: for a time, its zone (go-sql-driver/mysql reads a DATETIME in its
// loc with parseTime, as bytes without), and for the host's Local zone
// its offsets over the years (hosts in zones that agree on one date read
// the same DATETIME as different instants on others); for text, the text
// (a time var the driver sent in its loc, truncated or not); else its
// type. Pools whose drivers read the same column into different values
// must not share entries.
func driverShape(v any) string {
	switch v := v.(type) {
	case time.Time:
		name, offset := v.Zone()
		shape := fmt.Sprintf("time in %s (%s%+d)", v.Location(), name, offset)
		if v.Location() == time.Local {
			shape += zoneOffsets(time.Local)
		}
		return shape
	case []byte:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprintf("%T", v)
}

// zoneOffsets returns the offsets of loc in January and July of every
// tenth year from 1980 to 2040: what tells apart two zones that agree on
// one date (London and Abidjan in January).
func zoneOffsets(loc *time.Location) string {
	var b strings.Builder
	for year := 1980; year <= 2040; year += 10 {
		for _, month := range []time.Month{time.January, time.July} {
			_, offset := time.Date(year, month, 1, 12, 0, 0, 0, loc).Zone()
			fmt.Fprintf(&b, " %+d", offset)
		}
	}
	return b.String()
}

// retryIdentityAfter is how long reads bypass the cache after the identity
// of their database could not be read, before it is read again.
const retryIdentityAfter = time.Second

// databases remembers the identity of each database the plugin reads.
type databases struct {
	// m holds, by pool, the *database or the time of a failure
	// (time.Time). Not by *gorm.DB nor gorm.Config: GORM copies both on
	// every session (db.WithContext), which would read the identity again,
	// and keep it, once per request.
	m sync.Map
	// reading holds, by pool, the *identityRead under way: the first
	// reads of a pool, concurrent when an application starts, share one
	// query instead of opening a connection each.
	reading sync.Map
}

// database is what the plugin knows of a database it reads.
type database struct {
	id string // its identity, hashed
	// columns is how its columns compare, and keys its cascading foreign
	// keys (shared by the pools of one identity); nil on dialects whose
	// catalogue the plugin does not read.
	columns *dbColumns
	keys    *foreignKeys
}

// identityRead is one reading of a pool's identity, shared by the reads
// that wait for it.
type identityRead struct {
	done chan struct{}
	d    *database
}

// identity returns the database db reads through source (sourcePool: the
// pool its misses read), and false when its identity cannot be read now,
// or ctx ended while another caller read it: the read must then bypass
// the cache.
func (p *Plugin) identity(ctx context.Context, db *gorm.DB, source gorm.ConnPool) (*database, bool) {
	pool := unprepared(source)
	var key any = pool
	if !isComparable(pool) {
		key = db.Config // a pool that cannot be a map key: once per session
	}
	if v, ok := p.databases.m.Load(key); ok {
		switch v := v.(type) {
		case *database:
			return v, true
		case time.Time:
			if time.Since(v) < retryIdentityAfter {
				return nil, false
			}
		}
	}
	r := &identityRead{done: make(chan struct{})}
	if v, reading := p.databases.reading.LoadOrStore(key, r); reading {
		// Wait for it no longer than this read would wait for the
		// database: the read then bypasses the cache, and fails as
		// the database fails it.
		r = v.(*identityRead)
		select {
		case <-r.done:
			return r.d, r.d != nil
		case <-ctx.Done():
			return nil, false
		}
	}
	defer func() {
		p.databases.reading.Delete(key)
		close(r.done)
	}()
	id, err := p.readIdentity(ctx, db, pool)
	if err != nil {
		p.databases.m.Store(key, time.Now())
		p.logError(ctx, err)
		return nil, false
	}
	dialect := db.Dialector.Name()
	sum := sha256.Sum256([]byte(dialect + "\x00" + id))
	d := &database{id: dialect + "@" + hex.EncodeToString(sum[:8])}
	if readsCatalogue(dialect) {
		c := p.catalogueOf(d.id, dialect)
		d.columns, d.keys = &c.columns, &c.keys
	}
	// Reads that began before this one stored its identity, and missed
	// its reading, agree on the identity stored first: a pool's own
	// identity is random, and reads that disagreed would not share a miss.
	for {
		v, loaded := p.databases.m.LoadOrStore(key, d)
		if !loaded {
			r.d = d
			return d, true
		}
		if stored, ok := v.(*database); ok {
			r.d = stored
			return stored, true
		}
		if p.databases.m.CompareAndSwap(key, v, d) { // a failure's time
			r.d = d
			return d, true
		}
	}
}

// isComparable reports whether pool can be compared with ==, and so be a
// map key.
func isComparable(pool gorm.ConnPool) bool {
	t := reflect.TypeOf(pool)
	return t != nil && t.Comparable()
}

// knownDatabase returns the database of pool if its identity was read
// already, without reading it.
func (p *Plugin) knownDatabase(pool gorm.ConnPool) (*database, bool) {
	if !isComparable(pool) {
		return nil, false
	}
	v, _ := p.databases.m.Load(pool)
	d, ok := v.(*database)
	return d, ok
}

func (p *Plugin) readIdentity(ctx context.Context, db *gorm.DB, pool gorm.ConnPool) (string, error) {
	query, ok := identityQueries[db.Dialector.Name()]
	if !ok {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	id, probes, err := queryIdentity(ctx, pool, query)
	if err != nil {
		return "", errors.Join(errors.New("gormcache: reading which database this is"), err)
	}
	if id == "" {
		// An in-memory SQLite database: pragma_database_list names no
		// file, and two of them would look alike. It is its pool's alone
		// (pools that share one by name, with cache=shared, then share no
		// entries, which is only slower).
		return rand.Text(), nil
	}
	id += probes
	if query.settings != nil {
		settings, known := query.settings(db, pool)
		if !known {
			return rand.Text(), nil
		}
		id += "|" + settings
	}
	return id, nil
}

// queryIdentity runs query through pool, and returns its first column and
// the description of its probes: their names and driverShape.
func queryIdentity(ctx context.Context, pool gorm.ConnPool, query identityQuery) (id, probes string, err error) {
	rows, err := pool.QueryContext(ctx, query.sql, query.args...)
	if err != nil {
		return "", "", err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return "", "", err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", "", err
		}
		return "", "", sql.ErrNoRows
	}
	values := make([]any, len(names))
	dest := []any{&id}
	for i := 1; i < len(names); i++ {
		dest = append(dest, &values[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return "", "", err
	}
	for i := 1; i < len(names); i++ {
		probes += "|" + names[i] + " " + driverShape(values[i])
	}
	return id, probes, rows.Close()
}

// sqliteSettings returns the parameters of the DSN that opened pool, a
// SQLite database's, sorted, and false when they cannot be told: the
// Dialector has no DSN (it was handed an open pool alone), or pool is not
// the one db's Dialector opened (a replica's). A Dialector handed both a
// pool and a DSN is taken at its word that the DSN opened the pool. The
// parameters set how the driver reads values (go-sqlite3's _loc reads
// DATETIME columns in a zone of its own) and what SQL means (_cslike,
// PRAGMAs), and only the DSN tells them: no SQL reads them back.
// gorm.io/driver/sqlite and github.com/glebarez/sqlite keep the DSN in an
// exported field, read here by reflection rather than by importing a
// driver that every user would then build.
func sqliteSettings(db *gorm.DB, pool gorm.ConnPool) (string, bool) {
	opened := unprepared(db.Config.ConnPool)
	if !isComparable(opened) || !isComparable(pool) || opened != pool {
		return "", false
	}
	d := reflect.Indirect(reflect.ValueOf(db.Dialector))
	if d.Kind() != reflect.Struct {
		return "", false
	}
	dsn := d.FieldByName("DSN")
	if !dsn.IsValid() || dsn.Kind() != reflect.String || dsn.String() == "" {
		return "", false
	}
	_, params, _ := strings.Cut(dsn.String(), "?")
	values, err := url.ParseQuery(params)
	if err != nil {
		return params, true
	}
	return values.Encode(), true
}
