package gormcache

import (
	"bytes"
	"context"
	"database/sql"
	"encoding"
	"errors"
	"reflect"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/aftercommit"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/replay"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/querykey"
	"github.com/gormcache/gormcache/store"
)

// readMode is how a statement hands its rows to the caller.
type readMode uint8

const (
	modeFind readMode = iota // gorm:query: scanned into Statement.Dest
	modeRow                  // gorm:row for Row(): *sql.Row
	modeRows                 // gorm:row for Rows() and Scan(): *sql.Rows
)

// read is a cacheable statement, built.
type read struct {
	mode     readMode
	table    string         // the main table, for TableStats; "" when unknown
	counts   *tableCounters // the table's, from its miss; nil when unknown
	key      string
	db       *database // the database it reads
	sql      string
	ttl      time.Duration
	analysis *sqlscan.Analysis // of the SQL; computed on a miss when nil
	source   gorm.ConnPool     // what a miss reads, and names the database: see sourcePool
	opts     *queryOptions     // the statement's, if any
	pol      Policy            // the model's
	deps     []store.Dep       // computed on a miss
	schemes  []tableSchemesOf
}

func (p *Plugin) query(db *gorm.DB) { p.serve(db, modeFind, p.origQuery) }

func (p *Plugin) row(db *gorm.DB) {
	if isRows, ok := db.Get("rows"); ok && isRows.(bool) {
		p.serve(db, modeRows, p.origRow)
		return
	}
	p.serve(db, modeRow, p.origRow)
}

// A route is what the query path does with a read statement.
type route uint8

const (
	routeGORM     route = iota // not the cache's: GORM's own callback
	routeBypass                // the cache's, but not now: GORM's own callback, counted
	routeWrite                 // SQL that writes (through Raw): GORM's own callback, then invalidation
	routeCache                 // look it up; on a miss read the database and store the result
	routeCacheGet              // CacheGet alone: routeCache for a primary-key lookup (told once built), else routeGORM
)

// readFacts are what decides a read's route, gathered without side effects.
type readFacts struct {
	closed  bool // the plugin is closed
	ended   bool // the statement's context has ended: the database would fail it
	raw     bool // db.Raw: the SQL is the user's
	writes  bool // raw SQL that writes
	optedIn bool // CacheAll, the model's Policy, or Cache/TTL
	getOnly bool // CacheGet (the Config's or the Policy's) and not opted in
	dryRun  bool
	noCache bool // NoCache
	inTx    bool // inside a transaction
	locking bool // FOR UPDATE, FOR SHARE...
}

// routeOf decides the route of a read from its facts.
func routeOf(f readFacts) route {
	switch {
	case f.writes:
		return routeWrite
	case !f.optedIn && !f.getOnly, f.dryRun:
		return routeGORM
	case f.ended, f.noCache, f.inTx, f.locking, f.closed:
		return routeBypass
	case f.getOnly && f.raw:
		return routeGORM // raw SQL is never a primary-key lookup GORM knows of
	case f.getOnly:
		return routeCacheGet
	}
	return routeCache
}

// serve answers a read statement from the cache when its route says so, and
// otherwise hands it to GORM's own callback (orig).
func (p *Plugin) serve(db *gorm.DB, mode readMode, orig func(*gorm.DB)) {
	if db.Error != nil {
		return
	}
	stmt := db.Statement
	f := readFacts{raw: stmt.SQL.Len() > 0, dryRun: db.DryRun,
		inTx: aftercommit.InTransaction(stmt.ConnPool), closed: p.closed.Load(),
		ended: stmt.Context.Err() != nil}
	var analysis *sqlscan.Analysis
	if f.raw {
		analysis = p.analyze(stmt.SQL.String())
		f.writes = !analysis.ReadOnly && !analysis.Harmless
		f.locking = analysis.Locking
	} else {
		_, f.locking = stmt.Clauses["FOR"]
	}
	if isFilling(stmt.Context) && !f.inTx {
		// A read of a fn whose value Remember stores: what the cache does
		// not answer reads the source (see fillContext).
		stmt.ConnPool = sourcePool(db)
	}
	opts := optionsOf(stmt)
	pol := p.policyOf(stmt.Schema)
	f.optedIn = p.cfg.CacheAll || pol.CacheAll || (opts != nil && opts.cache)
	f.getOnly = !f.optedIn && (p.cfg.CacheGet || pol.CacheGet)
	f.noCache = opts != nil && opts.noCache

	rt := routeOf(f)
	switch rt {
	case routeGORM:
		orig(db)
		return
	case routeWrite:
		orig(db)
		p.writeSQL(db, analysis, invalidation.ReasonRawSQL)
		return
	case routeBypass:
		p.bypass(db, bypassReason(f))
		orig(db)
		return
	}
	if !f.raw {
		callbacks.BuildQuerySQL(db)
		if db.Error != nil {
			return
		}
		if rt == routeCacheGet && !isPrimaryKeyLookup(stmt) {
			orig(db)
			return
		}
	}
	r, err := p.plan(db, mode, opts, pol)
	if err != nil {
		p.bypass(db, bypassKey)
		orig(db)
		return
	}
	if f.raw {
		r.analysis = analysis
		if len(analysis.Reads) > 0 {
			r.table = analysis.Reads[0]
		}
	}
	p.lookup(db, r, orig)
}

// errNoIdentity is plan's error when the identity of the database could not
// be read (see database.go): the read bypasses the cache.
var errNoIdentity = errors.New("gormcache: the database's identity is unknown")

// plan computes the key and the TTL of a built statement.
func (p *Plugin) plan(db *gorm.DB, mode readMode, opts *queryOptions, pol Policy) (*read, error) {
	stmt := db.Statement
	r := &read{mode: mode, table: stmt.Table, sql: stmt.SQL.String(), ttl: p.cfg.TTL, opts: opts, pol: pol}
	if pol.TTL > 0 {
		r.ttl = pol.TTL
	}
	if opts != nil && opts.ttl > 0 {
		r.ttl = opts.ttl
	}
	r.source = sourcePool(db)
	d, ok := p.identity(stmt.Context, db, r.source)
	if !ok {
		return nil, errNoIdentity
	}
	shape := shapeOf(stmt, mode)
	if _, prepared := r.source.(*gorm.PreparedStmtDB); prepared && db.Dialector.Name() == "mysql" {
		// go-sql-driver/mysql reads the rows of a prepared statement in
		// the binary protocol, and those of a statement without vars in
		// the text one, which reads some types otherwise (FLOAT, BIGINT
		// UNSIGNED). Statements with vars are read as the pool's identity
		// says (interpolateParams, see database.go).
		shape = "prepared " + shape
	}
	key, err := querykey.Key(p.cfg.Prefix, d.id, r.sql, stmt.Vars, shape)
	if err != nil {
		return nil, err
	}
	r.key, r.db = key, d
	return r, nil
}

func shapeOf(stmt *gorm.Statement, mode readMode) string {
	switch mode {
	case modeRow:
		return "row"
	case modeRows:
		return "rows"
	}
	if stmt.Dest == nil {
		return ""
	}
	return reflect.TypeOf(stmt.Dest).String()
}

// lookup serves r from the request scope, from the store, or from the
// database on a miss.
func (p *Plugin) lookup(db *gorm.DB, r *read, orig func(*gorm.DB)) {
	ctx := db.Statement.Context
	sc := p.scopeOf(ctx)
	var since uint64
	if sc != nil {
		if value, ok := sc.get(r.key); ok && withinTTL(value, r.ttl) && p.answer(db, r, value, true) == nil {
			p.hit(db, r, value, true)
			return
		}
		if p.scoped(db, r) {
			since = sc.position()
		} else {
			sc = nil
		}
	}
	value, ok, err := p.get(ctx, r.key)
	if err != nil {
		p.logError(ctx, err)
	} else if ok && withinTTL(value, r.ttl) {
		if err := p.answer(db, r, value, p.peeks || sc != nil); err == nil {
			p.hit(db, r, value, false)
			sc.keep(r.key, value, r.deps, since)
			return
		}
		p.logError(ctx, err)
		_ = p.store.Delete(ctx, r.key)
	}
	if r.analysis == nil {
		r.analysis = p.analyze(r.sql)
	}
	if !cacheable(r.analysis, db.Statement.Vars) {
		p.bypass(db, bypassUncacheable)
		orig(db)
		return
	}
	if r.deps == nil {
		if r.deps, r.schemes, err = p.queryDeps(db, r); err == errSequence {
			p.bypass(db, bypassUncacheable)
			orig(db)
			return
		} else if err != nil {
			db.AddError(err)
			return
		}
	}
	p.miss(db, r)
	value = p.fetch(db, r, orig)
	sc.keep(r.key, value, r.deps, since)
}

// withinTTL reports whether the rows of value, an entry's value, were read
// less than ttl ago: a hit serves no older result than the read's TTL
// asks, whatever the TTL of the read that stored it (another call site's
// TTL option, another instance's Config). An older entry is a miss, and
// the miss stores its result under ttl.
func withinTTL(value []byte, ttl time.Duration) bool {
	created, ok := entry.Created(value)
	return !ok || time.Since(created) < ttl
}

// cacheable reports whether the result of SQL analysed as a can be cached:
// not SQL that writes or cannot be analysed (a raw clause.Expr with a
// data-modifying subquery), nor SQL whose result changes without a write
// (a system catalogue, now(), nextval(), a var "now" that a date function
// or a cast reads as the clock).
func cacheable(a *sqlscan.Analysis, vars []any) bool {
	if !a.ReadOnly || a.Unknown || a.Volatile {
		return false
	}
	for _, v := range vars {
		if s, ok := v.(string); ok && sqlscan.ClockWord(s) {
			return false
		}
	}
	return true
}

// scoped prepares r to be kept in a request scope: it computes its
// dependencies before the lookup (a miss would after it), and adds their
// schemes to those every delivery uses. It reports false when r cannot be
// kept.
func (p *Plugin) scoped(db *gorm.DB, r *read) bool {
	if r.analysis == nil {
		r.analysis = p.analyze(r.sql)
	}
	if !cacheable(r.analysis, db.Statement.Vars) {
		return false
	}
	deps, schemes, err := p.queryDeps(db, r)
	if err != nil {
		return false
	}
	r.deps, r.schemes = deps, schemes
	return p.scopes.addSchemes(schemes)
}

// answer serves db from value, the entry value stored for r, as it serves
// a hit: it copies the result kept decoded for it, or replays its rows.
// shared tells that value is not the caller's to modify (a store's Peek,
// a request scope's). It fails when value cannot be decoded.
func (p *Plugin) answer(db *gorm.DB, r *read, value []byte, shared bool) error {
	if r.mode == modeFind && p.decoded.use(db, r.key, value) {
		return nil
	}
	rows := value
	if shared {
		// Replayed []byte values reach Scanners, which may modify them.
		rows = bytes.Clone(value)
	}
	rs, err := entry.QueryRows(rows)
	if err != nil {
		return err
	}
	p.replay(db, r.mode, rs)
	if r.mode == modeFind {
		p.decoded.keep(db, r.key, value, rs)
	}
	return nil
}

// flight is the outcome of one database read shared by concurrent misses.
type flight struct {
	value  []byte         // the entry's value
	rows   *replay.Rowset // its rows, or nil for the waiters to decode
	stamps []store.Stamp  // nil when the store failed: waiters cannot validate
}

// errDatabase marks an error the database returned, as opposed to a result
// that cannot be recorded.
type errDatabase struct{ err error }

func (e errDatabase) Error() string { return e.err.Error() }
func (e errDatabase) Unwrap() error { return e.err }

// isDatabaseError reports whether err is an errDatabase, as fill returns
// them: unwrapped, so that a miss need not move a target for errors.As to
// the heap.
func isDatabaseError(err error) bool {
	_, ok := err.(errDatabase)
	return ok
}

// What fill returns when a read's rows reached the leader's destination
// but cannot be shared with its waiters: errScanned when the database
// failed while they were read (db holds the error), errUnrecorded when the
// rows cannot be recorded (the read counts as bypassed).
var (
	errScanned    = errors.New("gormcache: the result was not recorded")
	errUnrecorded = errors.New("gormcache: the result cannot be recorded")
)

// fetch runs r against the database once for all concurrent misses of its
// key, stores the result, and serves it. The leader of a Find-like read
// scans the database rows into its destination while recording them; the
// other callers replay the recording. It returns the entry value db was
// served, or nil when db was served otherwise (an error, or the database
// read directly).
func (p *Plugin) fetch(db *gorm.DB, r *read, orig func(*gorm.DB)) []byte {
	// Whatever answers this read from the database reads the source.
	db.Statement.ConnPool = r.source
	f, err, leader := p.flights.Do(db.Statement.Context, r.key, func() (*flight, error) {
		return p.fill(db, r)
	})
	switch {
	case leader && isDatabaseError(err):
		if f != nil && f.rows != nil {
			// A Row or Rows statement: the rows read before the error,
			// then the error, as GORM's own callback hands them.
			p.replay(db, r.mode, f.rows)
			return nil
		}
		db.AddError(errors.Unwrap(err))
		if r.mode == modeRows {
			db.RowsAffected = -1 // as GORM's row callback leaves it
		}
		return nil
	case leader && r.mode == modeFind:
		if err == errUnrecorded {
			// Served from the database, as every read of it will be:
			// counted, so that a result never cached shows.
			p.bypass(db, bypassUnreplayed)
		}
		if err != nil {
			return nil // rows scanned into db, but not recorded
		}
		return f.value // fill scanned the rows into db
	case err != nil:
		// Another caller's read could not be recorded, or failed, or this
		// caller's context ended while it waited for it: read the database
		// directly (and fail as that read fails).
		if errors.Is(err, errUnrecorded) {
			p.bypass(db, bypassUnreplayed)
		} else {
			p.bypass(db, bypassShared)
		}
		orig(db)
		return nil
	}
	if !leader && !p.stillValid(db.Statement.Context, r.deps, f.stamps) {
		// A write was invalidated after the shared read took its stamps:
		// its rows may predate a write that committed before this call.
		orig(db)
		return nil
	}
	rows := f.rows
	if rows == nil {
		// The waiters share f.value, and replayed []byte values reach
		// Scanners, which may modify them.
		if rows, err = entry.QueryRows(bytes.Clone(f.value)); err != nil {
			p.bypass(db, bypassUnreplayed)
			orig(db)
			return nil
		}
	}
	p.replay(db, r.mode, rows)
	return f.value
}

// fill reads the database and stores the result with the stamps taken
// before the read. For modeFind it also scans the rows into db.
func (p *Plugin) fill(db *gorm.DB, r *read) (*flight, error) {
	stmt := db.Statement
	ctx := stmt.Context
	f := &flight{}
	stamps, err := p.store.Stamps(ctx, r.deps)
	if err != nil {
		p.logError(ctx, err)
	} else if p.registerSchemes(ctx, r.schemes) {
		f.stamps = stamps
	}

	rows, err := stmt.ConnPool.QueryContext(ctx, r.sql, stmt.Vars...)
	if err != nil {
		if r.mode == modeRow {
			// GORM's Row() returns a *sql.Row that holds the error.
			f.rows = &replay.Rowset{Err: err}
		}
		return f, errDatabase{err}
	}
	var recorded encoding.BinaryAppender
	if r.mode == modeFind {
		// The decoded result is kept by the first hit (see decoded.go), so
		// that a result nobody reads again costs its miss nothing more.
		if recorded, err = p.scan(db, rows); err != nil {
			return nil, err
		}
	} else {
		if f.rows, err = p.record(rows, r.mode); err != nil {
			return f, err
		}
		recorded = f.rows
	}
	if f.value, err = entry.EncodeQuery(stmt.Vars, recorded); err != nil {
		// Rows the leader scanned but could not record.
		return nil, errUnrecorded
	}
	if f.stamps == nil {
		return f, nil
	}
	e := store.Entry{Value: f.value, Deps: r.deps, Stamps: f.stamps, Text: r.sql}
	if ctx.Done() != nil {
		// The entry outlives a cancelled read: it is the database's answer.
		ctx = context.WithoutCancel(ctx)
	}
	if err := p.store.Set(ctx, r.key, e, r.ttl); err != nil {
		p.logError(ctx, err)
		return f, nil
	}
	p.stats.fill(r.counts)
	return f, nil
}

// sourcePool returns the pool a miss reads: the one a write of the statement
// would use. (Reads the plugin does not cache keep the pool chosen for them.) With read replicas (gorm.io/plugin/dbresolver, whose callback
// has chosen a replica for the statement), that is the source: a replica
// that has not yet applied a write whose invalidation the miss follows
// would fill the cache with rows older than the stamps they are stored
// under, stale until they expire. So cached reads are as fresh as the
// primary, and only misses reach it.
func sourcePool(db *gorm.DB) gorm.ConnPool {
	resolve := db.Callback().Update().Get("gorm:db_resolver")
	if resolve == nil {
		return db.Statement.ConnPool
	}
	chosen := db.Statement.ConnPool
	resolve(db)
	source := db.Statement.ConnPool
	db.Statement.ConnPool = chosen
	return source
}

// scan hands rows to gorm.Scan, as GORM's query callback does, recording
// them on the way, and returns the recording.
func (p *Plugin) scan(db *gorm.DB, rows *sql.Rows) (*replay.Recorder, error) {
	rec, err := replay.NewRecorder(rows, scanReadsTypes(db.Statement.Dest))
	if err != nil {
		_ = rows.Close()
		return nil, errDatabase{err}
	}
	gorm.Scan(rec, db, 0)
	readErr := rows.Err()
	if err := rows.Close(); err != nil {
		db.AddError(err)
		readErr = err
	}
	if db.Statement.Result != nil {
		db.Statement.Result.RowsAffected = db.RowsAffected
	}
	if readErr != nil {
		// gorm.Scan added it. A decoding error, by contrast, is part of
		// the result: replaying the rows gives it again.
		return nil, errScanned
	}
	return rec, nil
}

// scanReadsTypes reports whether gorm.Scan may read the column types of
// rows scanned into dest: it does for map destinations only (to choose the
// values' types), so anything that is, or holds, a map or an interface is
// answered true.
func scanReadsTypes(dest any) bool {
	t := reflect.TypeOf(dest)
	for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		t = t.Elem()
	}
	return t == nil || t.Kind() == reflect.Map || t.Kind() == reflect.Interface
}

// record records rows for a Row or Rows statement (at most one row for Row).
// When the database fails while they are read, it returns the rows read
// before, with the error as their Rowset's Err, and an errDatabase: the
// caller's replay meets the error where the rows of the database would have
// given it.
func (p *Plugin) record(rows *sql.Rows, mode readMode) (*replay.Rowset, error) {
	limit := 0
	if mode == modeRow {
		limit = 1
	}
	rs, err := replay.Record(rows, limit)
	closeErr := rows.Close()
	switch {
	case errors.Is(err, replay.ErrUnsupported):
		return nil, err
	case err != nil:
		return rs, errDatabase{err}
	case closeErr != nil:
		rs.Err = closeErr
		return rs, errDatabase{closeErr}
	}
	return rs, nil
}

// registerSchemes registers the schemes of a read before it reads the
// database, so that every write committed after that sees them. It reports
// false when they could not all be registered: the read must then not be
// stored.
func (p *Plugin) registerSchemes(ctx context.Context, schemes []tableSchemesOf) bool {
	if len(schemes) == 0 {
		return true
	}
	reg := p.store.(store.SchemeRegistry)
	for _, ts := range schemes {
		if err := reg.AddSchemes(ctx, ts.table, ts.schemes); err != nil {
			if !errors.Is(err, store.ErrTooManySchemes) {
				p.logError(ctx, err)
			}
			return false
		}
	}
	return true
}

// stillValid reports whether deps still have the stamps a shared read took.
func (p *Plugin) stillValid(ctx context.Context, deps []store.Dep, stamps []store.Stamp) bool {
	if stamps == nil {
		return false
	}
	cur, err := p.store.Stamps(ctx, deps)
	if err != nil {
		p.logError(ctx, err)
		return false
	}
	return slices.Equal(cur, stamps)
}

// replay hands rs to the statement exactly as GORM's own callbacks hand
// database rows.
func (p *Plugin) replay(db *gorm.DB, mode readMode, rs *replay.Rowset) {
	stmt := db.Statement
	switch mode {
	case modeRow:
		stmt.Dest = p.player.Row(rs)
		db.RowsAffected = -1
	case modeRows:
		stmt.Settings.Delete("rows")
		rows, err := p.player.Rows(rs)
		stmt.Dest = rows
		if err != nil {
			db.AddError(err)
		}
		db.RowsAffected = -1
	default:
		rows, err := p.player.Rows(rs)
		if err != nil {
			db.AddError(err)
			return
		}
		gorm.Scan(rows, db, 0)
		db.AddError(rows.Close())
		if stmt.Result != nil {
			stmt.Result.RowsAffected = db.RowsAffected
		}
	}
}

// isPrimaryKeyLookup reports whether a built statement selects rows of its
// model by primary key only (plus the soft-delete condition): what CacheGet
// caches.
func isPrimaryKeyLookup(stmt *gorm.Statement) bool {
	s := stmt.Schema
	if s == nil || len(s.PrimaryFields) == 0 || len(stmt.Joins) > 0 {
		return false
	}
	c, ok := stmt.Clauses["WHERE"]
	if !ok {
		return false
	}
	where, ok := c.Expression.(clause.Where)
	if !ok || len(where.Exprs) == 0 {
		return false
	}
	covered := map[string]bool{}
	for _, e := range where.Exprs {
		var col clause.Column
		switch e := e.(type) {
		case clause.Eq:
			col, ok = e.Column.(clause.Column)
			if ok && isSoftDelete(s, col.Name) {
				continue
			}
		case clause.IN:
			col, ok = e.Column.(clause.Column)
		default:
			return false
		}
		if !ok || col.Raw {
			return false
		}
		switch {
		case col.Name == clause.PrimaryKey && s.PrioritizedPrimaryField != nil:
			covered[s.PrioritizedPrimaryField.DBName] = true
		case s.LookUpField(col.Name) != nil && s.LookUpField(col.Name).PrimaryKey:
			covered[s.LookUpField(col.Name).DBName] = true
		default:
			return false
		}
	}
	for _, f := range s.PrimaryFields {
		if !covered[f.DBName] {
			return false
		}
	}
	return true
}

// isSoftDelete reports whether name is the model's gorm.DeletedAt column.
func isSoftDelete(s *schema.Schema, name string) bool {
	f := s.LookUpField(name)
	return f != nil && f.FieldType == reflect.TypeFor[gorm.DeletedAt]()
}
