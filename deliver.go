package gormcache

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/aftercommit"
	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// A change is what one write, or one manual call, asks to invalidate. Its
// dependencies are computed when it is delivered, right after the commit,
// against the schemes registered then: a read that registered one after the
// write read its old rows, and read the database before the commit, is
// reached all the same.
type change struct {
	// event is what the change reports: Statement, Tables, Level, Reason.
	// Delivery fills in the rest.
	event invalidation.Event
	// s and images are, for Level Rows, the schema of Tables[0] and the
	// rows the write changed, before and after; asWritten when they are
	// the values a create sent, not rows read from the database.
	s         *schema.Schema
	images    []rowimage.Image
	asWritten bool
	// on are the events of the write, for the triggers it fires: any when
	// zero (a write of raw SQL, a manual invalidation).
	on events
	// unchanged: the write changed no row of Tables, but may have fired
	// triggers (see writeNothing): it renews only what they write.
	unchanged bool
	// ddl: the statement changed the definitions of Tables, or of any
	// table (ddlAll). What the plugin learned of them is forgotten when it
	// runs and again once it commits: a catalogue read in between, before
	// the commit, does not show it.
	ddl, ddlAll bool
	// db is the statement's, and pool the one it wrote through (the
	// pool its transaction was begun on): its database's cascading
	// foreign keys and columns are read through it after the commit.
	db   *gorm.DB
	pool gorm.ConnPool
	// span is that of the statement that asked for the change, for the
	// span of its delivery (trace.go).
	span trace.Span
}

// events returns the events of c's write.
func (c *change) events() events {
	if c.on == 0 {
		return anyEvent
	}
	return c.on
}

// queue hands c to the plugin's sink after the commit of db's transaction,
// or at once outside of one.
func (p *Plugin) queue(db *gorm.DB, c *change) {
	c.db, c.pool = db, writtenThrough(db)
	c.span = trace.SpanFromContext(db.Statement.Context)
	aftercommit.Deliver(db.Statement.Context, db.Statement.ConnPool, p.deliver, c)
}

// writtenThrough returns the pool the statement of db writes through: the
// statement's, outside a transaction, where dbresolver may have chosen it;
// in a transaction, the pool it was begun on, or db's when that is unknown
// (a transaction the plugin adopted, a *sql.Tx the application gave GORM
// itself).
func writtenThrough(db *gorm.DB) gorm.ConnPool {
	pool := db.Statement.ConnPool
	if c, ok := pool.(*capture); ok {
		pool = c.ConnPool
	}
	if tx := aftercommit.TxOf[*change](pool); tx != nil && tx.Origin() != nil {
		return tx.Origin()
	}
	if aftercommit.InTransaction(pool) {
		return db.ConnPool
	}
	return pool
}

// writtenTo names the database the statement of db writes to, for
// rowimage.Reader.Read: the pool it writes through, or nil when that pool
// cannot be a map key.
func writtenTo(db *gorm.DB) any {
	if pool := unprepared(writtenThrough(db)); isComparable(pool) {
		return pool
	}
	return nil
}

// tablesChange is a change of statement (its SQL, "" for a manual call)
// that invalidates tables whole.
func tablesChange(statement string, tables []string, reason invalidation.Reason) *change {
	return &change{event: invalidation.Event{
		Statement: statement,
		Tables:    tables,
		Level:     invalidation.Tables,
		Reason:    reason,
	}}
}

// deliver is the plugin's sink: it computes the dependencies of the changes
// of one transaction (or one statement), renews them with one store call
// and in request scopes (scope.go), and reports each change to
// Config.OnInvalidate. Each table's schemes are
// read once, however many changes touch it, and once the store fails to
// tell one table's, the others' are not asked for: a stalled store costs a
// transaction one failed read, whatever its number of statements.
func (p *Plugin) deliver(ctx context.Context, changes []*change) {
	// The writes have committed: what their invalidation reads and stores
	// is done whatever their callers' contexts say now.
	ctx = context.WithoutCancel(ctx)
	schemes := &batchSchemes{tables: map[string]tableSchemes{}}
	var all []store.Dep
	for _, c := range changes {
		if c.ddl {
			p.forgetDefinitions(c.event.Tables, c.ddlAll)
		}
	}
	reported := changes[:0:0]
	for _, c := range changes {
		p.resolve(ctx, c, schemes)
		all = append(all, c.event.Deps...)
		if !c.unchanged || len(c.event.Deps) > 0 {
			reported = append(reported, c)
		}
	}
	changes = reported
	all = dedupe(all)
	err := p.store.Invalidate(ctx, all...)
	if err != nil {
		p.logError(ctx, err)
	} else {
		p.countInvalidated(all)
	}
	p.scopes.log.append(all)
	traceDelivery(ctx, changes, all, err)
	for _, c := range changes {
		c.event.Err = err
		if p.cfg.OnInvalidate != nil {
			p.cfg.OnInvalidate(ctx, c.event)
		}
	}
}

// resolve computes the dependencies of c into c.event: those of its rows,
// or of its tables, and of the tables their cascading foreign keys and
// their triggers reach.
// schemes caches the tables' schemes for the other changes of the batch.
func (p *Plugin) resolve(ctx context.Context, c *change, schemes *batchSchemes) {
	e := &c.event
	var d *database
	var reached []string
	if e.Level == invalidation.Rows || e.Level == invalidation.Tables {
		var known, anyTable bool
		if d, known = p.foreignKeysOf(ctx, c.db, c.pool); !known {
			// Any table may cascade from these: invalidate everything.
			e.Level, e.Reason = invalidation.All, invalidation.ReasonCascadesUnknown
		} else if reached, anyTable = p.cascades.closure(d.keys, e.Tables, c.events()); anyTable {
			e.Level, e.Reason = invalidation.All, invalidation.ReasonTrigger
		}
	}
	switch e.Level {
	case invalidation.All:
		e.Deps = []store.Dep{p.global}
		return
	case invalidation.Key:
		e.Deps = []store.Dep{p.keyDep(p.rememberKey(e.Key))}
		return
	case invalidation.Rows:
		if c.unchanged {
			for _, t := range e.Tables {
				if p.cascades.cyclic(d.keys, t, c.events()) {
					e.Deps = append(e.Deps, store.Dep{Table: p.cfg.Prefix + t})
				}
			}
			break
		}
		table := e.Tables[0]
		ts, ok := schemes.tables[table]
		if !ok && !schemes.failed {
			ts = p.schemesOf(ctx, table)
			schemes.tables[table] = ts
			schemes.failed = !ts.known
		}
		var rows int
		columns, catalogue := p.columnsAt(ctx, c.db, c.pool, d, e.Tables)
		if c.asWritten && catalogue != nil && !catalogue.catalog.Strict(table) {
			// Outside strict mode, MySQL stores what it can of a value
			// it cannot store (a string cut, a number clamped), with a
			// warning: the create's values may not be the rows'.
			e.Deps, rows = []store.Dep{{Table: p.cfg.Prefix + table}}, -1
		} else {
			e.Deps, rows = p.rowDeps(table, c.s, c.images, ts, columns)
		}
		if rows < 0 {
			e.Level, e.Reason = invalidation.Tables, invalidation.ReasonUnreadable
		} else {
			e.Rows = rows
		}
		if p.cascades.cyclic(d.keys, table, c.events()) {
			// A cascade comes back to the table: rows of it changed that
			// the images do not show.
			e.Deps = append(e.Deps, store.Dep{Table: p.cfg.Prefix + table})
		}
	case invalidation.Tables:
		for _, t := range e.Tables {
			e.Deps = append(e.Deps, store.Dep{Table: p.cfg.Prefix + t})
		}
	}
	for _, t := range reached[len(e.Tables):] {
		e.Cascaded = append(e.Cascaded, t)
		e.Deps = append(e.Deps, store.Dep{Table: p.cfg.Prefix + t})
	}
}

// foreignKeysOf returns the database db wrote to through pool, its
// cascading foreign keys loaded, and false when they cannot be known: its
// identity or its catalogue cannot be read. The write has committed.
func (p *Plugin) foreignKeysOf(ctx context.Context, db *gorm.DB, pool gorm.ConnPool) (*database, bool) {
	d, ok := p.identity(ctx, db, pool)
	if !ok {
		return nil, false
	}
	if d.keys != nil && !d.keys.load(ctx, db.Dialector.Name(), unprepared(pool)) {
		return nil, false
	}
	return d, true
}

// batchSchemes are the schemes of the tables a delivery reads: failed once
// the store could not tell one table's.
type batchSchemes struct {
	tables map[string]tableSchemes
	failed bool
}

// tableSchemes are the schemes registered for a table; known is false when
// the store could not tell them.
type tableSchemes struct {
	list  []string
	known bool
}

// schemesOf returns the schemes registered for table, and those of the
// answers request scopes keep: none when the store has no registry (its
// reads depend on any row), unknown when it fails.
func (p *Plugin) schemesOf(ctx context.Context, table string) tableSchemes {
	reg, ok := p.store.(store.SchemeRegistry)
	if !ok {
		return tableSchemes{known: true}
	}
	list, err := reg.Schemes(ctx, p.cfg.Prefix+table)
	if err != nil {
		p.logError(ctx, err)
		return tableSchemes{}
	}
	return tableSchemes{list: p.scopes.withSchemes(p.cfg.Prefix+table, list), known: true}
}

// invalidate renews deps at once, outside any transaction (Remember's
// Forget, and the store's own retries report through logError).
func (p *Plugin) invalidate(ctx context.Context, deps []store.Dep) {
	deps = dedupe(deps)
	err := p.store.Invalidate(context.WithoutCancel(ctx), deps...)
	if err != nil {
		p.logError(ctx, err)
	} else {
		p.countInvalidated(deps)
	}
	p.scopes.log.append(deps)
}

// dedupe removes the repeated dependencies of deps, in place, keeping the
// first of each in order; the result has no room to append into deps. The
// few of most writes are compared pairwise, sparing them a map.
func dedupe(deps []store.Dep) []store.Dep {
	out := deps[:0]
	if len(deps) <= 16 {
		for _, d := range deps {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		return slices.Clip(out)
	}
	seen := make(map[store.Dep]struct{}, len(deps))
	for _, d := range deps {
		if _, ok := seen[d]; !ok {
			seen[d] = struct{}{}
			out = append(out, d)
		}
	}
	return slices.Clip(out)
}
