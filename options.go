package gormcache

import (
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// settingsKey is where a statement's per-query options live in
// gorm.Statement.Settings, which GORM copies into the statements that
// preload associations: options set on a query reach its preloads.
const settingsKey = "gormcache:options"

// optionsApplied is set once any statement of the process has been given
// an Option: until then no statement's Settings hold options.
var optionsApplied atomic.Bool

// queryOptions are the per-query settings collected from Option clauses.
// A value stored in Settings is never modified: Option.ModifyStatement stores
// a changed copy.
type queryOptions struct {
	cache   bool          // opted in by Cache or TTL
	noCache bool          // NoCache: never cached, whatever the policies say
	fields  []string      // Cache(fields...): what to track
	ttl     time.Duration // TTL(d); 0: the policy's or the Config's
	// owner is the statement the options were given to. GORM copies them
	// into the statements that preload its associations, whose models do
	// not have the fields named: those track every field.
	owner *gorm.Statement
}

// Option is a per-query cache setting, passed to db.Clauses. It builds no SQL.
type Option struct {
	apply func(*queryOptions)
}

// Cache opts a query in: its result is cached and served until a write changes
// the rows it depends on. With no argument every filtered column and joined
// relation is tracked, which is the most precise. Naming fields (Go field or
// column names) or relation paths ("User", "Message.Sender") restricts
// tracking to them: the other filter terms are ignored, so invalidation is
// coarser but never unsafe.
//
//	db.Clauses(gormcache.Cache()).Where("user_id = ?", id).Find(&photos)
//
// GORM's generics API takes it as an option of [gorm.G], which starts a new
// session and so drops the clauses of the db it is given:
//
//	photos, err := gorm.G[Photo](db, gormcache.Cache()).Where("user_id = ?", id).Find(ctx)
func Cache(fields ...string) Option {
	fields = append([]string(nil), fields...)
	return Option{apply: func(o *queryOptions) {
		o.cache = true
		o.fields = append(o.fields, fields...)
	}}
}

// NoCache makes a query bypass the cache entirely, even under a CacheAll
// policy: no lookup, no fill.
func NoCache() Option {
	return Option{apply: func(o *queryOptions) { o.noCache = true }}
}

// TTL opts a query in (like Cache()) and keeps its result at most d.
// A non-positive d is ignored: the query uses the model's or the Config's TTL.
// Whatever TTL stored a result (another call site's, another instance's
// Config), a query is never served one read more than its own TTL ago.
func TTL(d time.Duration) Option {
	return Option{apply: func(o *queryOptions) {
		o.cache = true
		if d > 0 {
			o.ttl = d
		}
	}}
}

// Name implements clause.Interface.
func (Option) Name() string { return settingsKey }

// Build implements clause.Expression; an Option adds nothing to the SQL.
func (Option) Build(clause.Builder) {}

// MergeClause implements clause.Interface.
func (Option) MergeClause(*clause.Clause) {}

// ModifyStatement implements gorm.StatementModifier: it records the option in
// the statement's settings.
func (o Option) ModifyStatement(stmt *gorm.Statement) {
	optionsApplied.Store(true)
	var next queryOptions
	if prev, ok := stmt.Settings.Load(settingsKey); ok {
		next = *prev.(*queryOptions)
		next.fields = append([]string(nil), next.fields...)
	}
	if o.apply != nil {
		o.apply(&next)
	}
	next.owner = stmt
	stmt.Settings.Store(settingsKey, &next)
}

func optionsOf(stmt *gorm.Statement) *queryOptions {
	if !optionsApplied.Load() {
		// No statement has options: leave Settings untouched, since the
		// first use of a statement's sync.Map allocates.
		return nil
	}
	if v, ok := stmt.Settings.Load(settingsKey); ok {
		return v.(*queryOptions)
	}
	return nil
}
