package gormcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/aftercommit"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
	"github.com/gormcache/gormcache/store"
)

// ErrPanicked is wrapped by the error Remember returns when fn panicked. The
// error's message holds the panic's value and fn's stack.
var ErrPanicked = errors.New("gormcache: Remember: fn panicked")

// ErrInvalidKey is wrapped by the error Remember and Forget return for an
// empty key or one holding a brace.
var ErrInvalidKey = errors.New("gormcache: invalid Remember key")

// ErrInvalidDependency is wrapped by the error Remember returns for a
// dependency that names no rows: a value that is not a GORM model, or a
// DependsOnRows on a field the model does not have.
var ErrInvalidDependency = errors.New("gormcache: invalid dependency")

// RememberOption configures one Remember call: DependsOn, DependsOnRows,
// RememberTTL, RememberCodec, CacheErrors.
type RememberOption interface {
	applyRemember(*rememberOptions)
}

type rememberOptions struct {
	deps        []any // DependsOn's values and DependsOnRows' conjunctions
	ttl         time.Duration
	codec       Codec
	cacheErrors []error
}

type rememberOptionFunc func(*rememberOptions)

func (f rememberOptionFunc) applyRemember(o *rememberOptions) { f(o) }

// DependsOn makes the value depend on the rows that values name, so that
// Remember computes it again after a write to one of them:
//
//   - a model with a zero primary key, or a nil pointer to a model type
//     (&Photo{}, (*Photo)(nil)): every row of the model's table;
//   - a model object with a primary key (&photo): that row;
//   - a slice of model objects (photos): those rows;
//   - a DependsOnRows conjunction: the rows it matches.
//
// A write recomputes the value only when it adds, removes or changes rows
// named this way (with a store that keeps schemes, like the memory store;
// otherwise any write to the table does).
//
// Every value also depends on Forget of its key and on InvalidateAll.
// Without DependsOn or DependsOnRows, nothing else renews it before its TTL.
func DependsOn(values ...any) RememberOption {
	values = append([]any(nil), values...)
	return rememberOptionFunc(func(o *rememberOptions) { o.deps = append(o.deps, values...) })
}

// conjunction is a DependsOnRows dependency.
type conjunction struct {
	model any
	field string
	value any
}

func (c conjunction) applyRemember(o *rememberOptions) { o.deps = append(o.deps, c) }

// DependsOnRows returns the dependency on the rows of model's table whose
// field equals value; field is a Go field or a column name of model (a pointer to
// a model struct, like &Photo{}). Pass it to Remember as an option or among
// the values of DependsOn, whose documentation tells what it costs today.
// Remember fails, wrapping ErrInvalidDependency, when the model has no such
// field.
//
//	gormcache.Remember(db, gormcache.Key("albums", userID), albums,
//		gormcache.DependsOnRows(&Photo{}, "UserID", userID))
func DependsOnRows(model any, field string, value any) RememberOption {
	return conjunction{model: model, field: field, value: value}
}

// RememberTTL keeps the value at most d, and bounds the age of the value
// the call is served: a value another call stored longer ago, under a
// longer TTL, is computed again. A non-positive d is ignored: Config.TTL
// applies.
func RememberTTL(d time.Duration) RememberOption {
	return rememberOptionFunc(func(o *rememberOptions) {
		if d > 0 {
			o.ttl = d
		}
	})
}

// RememberCodec encodes the value with c instead of JSONCodec; nil means
// JSONCodec. Calls for one key should agree on the codec and on the type of
// the value: an entry that the caller's codec cannot decode into its type is
// computed again.
func RememberCodec(c Codec) RememberOption {
	return rememberOptionFunc(func(o *rememberOptions) { o.codec = c })
}

// CacheErrors caches the errors of fn that match one of targets (by
// errors.Is) like values, for negative results such as
// gorm.ErrRecordNotFound: until a dependency changes or the TTL ends,
// Remember returns the target, without calling fn. A hit returns the target
// itself, not the error fn returned, which may have wrapped it; the store
// holds the target's message, which tells the targets apart. Other errors
// are never cached.
func CacheErrors(targets ...error) RememberOption {
	targets = append([]error(nil), targets...)
	return rememberOptionFunc(func(o *rememberOptions) { o.cacheErrors = append(o.cacheErrors, targets...) })
}

// Remember returns the value remembered under key, or calls fn with db's
// context to compute it, then caches and returns it. It brings the freshness
// of cached queries to any computation, such as a report, an aggregate of
// several queries, or a call to another service: the stamps of the value's
// dependencies (DependsOn, DependsOnRows) are read before fn runs and stored with
// its result, so a value computed from rows that a write then changes is
// never served again.
//
// Concurrent calls for one key in one process run fn once, on the first
// caller's goroutine. The other callers wait for its outcome, or until their
// own context ends. If a write invalidated a dependency while fn ran, a
// waiter calls fn itself, uncached; if the caller that ran fn gave up
// because its context ended, or fn ended its goroutine (runtime.Goexit),
// a waiter whose context lives runs fn again. An error of fn is returned to
// every waiter and is not cached (unless CacheErrors says so); a panic in fn
// is recovered, and returned to every waiter as an error wrapping
// ErrPanicked. fn must not call Remember for its own key: it would wait for
// itself.
//
// fn's context has no request scope (a scope's answers may be older than
// what every caller may be served), and the queries fn runs that the cache
// does not answer read the source, not a read replica, as a cached query's
// miss does: the value is stored for every caller.
//
// The value is encoded with JSONCodec (or RememberCodec's), whose limits
// apply, and every caller gets its own copy decoded from that encoding, the
// one that ran fn included, so a miss returns what the hits after it will.
// A value the codec cannot encode, or decode back, is returned as fn
// returned it, shared by the waiters, and not cached; the failure is logged
// and counted in Stats.Errors.
//
// With db's context in a request scope ([WithRequestScope]), a value or
// cached error remembered once in the scope is returned again from the
// scope, decoded anew, with no store call, as a query's answer is.
//
// Inside a transaction (db comes from db.Begin or db.Transaction), Remember
// neither reads nor fills the cache: it calls fn, like a query would read the
// database. A store failure degrades to calling fn, logged and counted in
// Stats.Errors, never returned. Remember counts in Stats.Hits, Misses, Fills
// and Bypassed like a query.
//
// Before calling fn, Remember fails with ErrNotRegistered when no Plugin is
// registered on db, with ErrInvalidKey for an empty key or one holding a
// brace (it would change the key's Redis Cluster hash tag), and with
// ErrInvalidDependency.
func Remember[T any](db *gorm.DB, key string, fn func(ctx context.Context) (T, error), opts ...RememberOption) (T, error) {
	var zero T
	p, err := pluginOf(db)
	if err != nil {
		return zero, err
	}
	c, err := p.newRecall(db, key, opts)
	if err != nil {
		return zero, err
	}
	if aftercommit.InTransaction(db.Statement.ConnPool) {
		p.stats.bypassed.Add(1)
		return call(c.ctx, fn)
	}
	sc := p.scopeOf(c.ctx)
	var since uint64
	if sc != nil {
		if value, ok := sc.get(c.key); ok {
			// Each caller decodes a copy of its own: a codec may keep
			// references into what it decodes.
			if v, hit, cachedErr := rememberedOf[T](p, c, bytes.Clone(value)); hit {
				p.stats.scopeHit(nil)
				return v, cachedErr
			}
		}
		if p.scopes.addSchemes(c.schemes) {
			since = sc.position()
		} else {
			sc = nil
		}
	}
	value, ok, err := p.store.Get(c.ctx, c.key)
	if err != nil {
		p.logError(c.ctx, err)
	} else if ok {
		if v, hit, cachedErr := rememberedOf[T](p, c, value); hit {
			p.stats.hit(nil)
			if sc != nil {
				sc.keep(c.key, bytes.Clone(value), c.deps, since)
			}
			return v, cachedErr
		}
	}
	p.stats.miss(nil)
	for {
		f, err, leader := p.remembering.Do(c.ctx, c.key, func() (*rememberFlight, error) {
			return fillRemembered(p, c, fn), nil
		})
		if err != nil {
			if c.ctx.Err() != nil {
				return zero, c.ctx.Err()
			}
			// The caller that ran fn did not return from it
			// (runtime.Goexit): run it here, as without the plugin.
			return call(c.ctx, fn)
		}
		if leader {
			sc.keep(c.key, f.entry, c.deps, since)
			if f.err != nil {
				return zero, f.err
			}
			v, _ := f.value.(T) // nil when T is an interface holding nil
			return v, nil
		}
		if f.canceled && c.ctx.Err() == nil {
			continue // the caller that ran fn gave up, this one has not
		}
		if !p.stillValid(c.ctx, c.deps, f.stamps) {
			// fn may have read rows older than a write that committed
			// before this call began.
			return call(c.ctx, fn)
		}
		sc.keep(c.key, f.entry, c.deps, since)
		if f.err != nil {
			return zero, f.err
		}
		if f.entry != nil {
			if v, err := decodeRemembered[T](c.codec, f.entry); err == nil {
				return v, nil
			}
		}
		if v, ok := f.value.(T); ok {
			return v, nil // it could not be encoded: share it
		}
		return call(c.ctx, fn) // another caller remembers another type under key
	}
}

// Forget makes the value remembered under key invalid: the next Remember
// for key calls fn. Like the Invalidate functions, called with a *gorm.DB
// inside a transaction it takes effect when the transaction commits, and it
// logs and counts a store failure rather than returning it. It fails with
// ErrNotRegistered when no Plugin is registered on db, and with
// ErrInvalidKey.
func Forget(db *gorm.DB, key string) error {
	p, err := pluginOf(db)
	if err != nil {
		return err
	}
	if err := checkRememberKey(key); err != nil {
		return err
	}
	p.queue(db, &change{event: invalidation.Event{Key: key, Level: invalidation.Key}})
	return nil
}

// recall is one Remember call, resolved.
type recall struct {
	ctx         context.Context
	key         string           // namespaced: rememberKey
	deps        []store.Dep      // p.global, keyDep, then the caller's
	schemes     []tableSchemesOf // to register before fn runs
	ttl         time.Duration
	codec       Codec
	cacheErrors []error
}

func (p *Plugin) newRecall(db *gorm.DB, key string, opts []RememberOption) (*recall, error) {
	if err := checkRememberKey(key); err != nil {
		return nil, err
	}
	var o rememberOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyRemember(&o)
		}
	}
	deps, schemes, err := p.rememberDeps(db, o.deps)
	if err != nil {
		return nil, err
	}
	c := &recall{
		ctx:         db.Statement.Context,
		key:         p.rememberKey(key),
		ttl:         p.cfg.TTL,
		codec:       o.codec,
		cacheErrors: o.cacheErrors,
	}
	if o.ttl > 0 {
		c.ttl = o.ttl
	}
	if c.codec == nil {
		c.codec = JSONCodec{}
	}
	c.deps = dedupe(append([]store.Dep{p.global, p.keyDep(c.key)}, deps...))
	c.schemes = schemes
	return c, nil
}

func checkRememberKey(key string) error {
	if key == "" || strings.ContainsAny(key, "{}") {
		return fmt.Errorf("%w %q: want a non-empty key without braces", ErrInvalidKey, key)
	}
	return nil
}

func (p *Plugin) rememberKey(key string) string { return entry.RememberKey(p.cfg.Prefix, key) }

// keyDep is the dependency that Forget renews: every value remembered under
// key records it, so that a Forget racing with fn wins like a write does.
func (p *Plugin) keyDep(key string) store.Dep { return store.Dep{Table: key} }

// rememberDeps returns the dependencies of the values given to DependsOn and
// DependsOnRows, and the schemes to register before fn runs: a model with a zero
// primary key means any row of its table; an object with a primary key its
// row (the conjunction of its primary-key columns); a DependsOnRows its
// conjunction. A value that cannot be proven (a DependsOnRows on a float or time
// column, a store without a scheme registry) widens to any row of the table.
// Every value also depends on its tables as a whole.
func (p *Plugin) rememberDeps(db *gorm.DB, values []any) ([]store.Dep, []tableSchemesOf, error) {
	var r readSet
	_, precise := p.store.(store.SchemeRegistry)
	for _, v := range values {
		model := v
		c, isRows := v.(conjunction)
		if isRows {
			model = c.model
		}
		if model == nil {
			return nil, nil, fmt.Errorf("%w: nil model", ErrInvalidDependency)
		}
		stmt := &gorm.Statement{DB: db}
		if err := parseModel(stmt, model); err != nil {
			return nil, nil, fmt.Errorf("%w: %T is not a GORM model: %w", ErrInvalidDependency, model, err)
		}
		s := stmt.Schema
		var f *schema.Field
		if isRows {
			if f = s.LookUpField(c.field); f == nil {
				return nil, nil, fmt.Errorf("%w: DependsOnRows: model %s has no field %q", ErrInvalidDependency, s.Name, c.field)
			}
			if f.DBName == "" {
				return nil, nil, fmt.Errorf("%w: DependsOnRows: field %q of model %s is not a column", ErrInvalidDependency, c.field, s.Name)
			}
		}
		table := sqlscan.ModelTable(s.Table)
		var conjs []deps.Conj
		if precise && p.precisionOf(s) != TableLevel && !aftercommit.InTransaction(db.Statement.ConnPool) {
			// (Inside a transaction nothing is remembered: the dependencies
			// are only checked, without reading the catalogue.)
			columns, _ := p.columnsAt(db.Statement.Context, db, sourcePool(db), nil, []string{table})
			if !isRows {
				conjs = primaryKeyConjs(db.Statement.Context, s, reflect.ValueOf(model), columns)
			} else if value, ok := canon(columns, s, f, c.value); ok {
				conjs = []deps.Conj{{{Column: strings.ToLower(f.DBName), Value: value}}}
			}
		}
		r.add(p.cfg.Prefix+table, conjs)
	}
	return r.deps, r.schemes, nil
}

// primaryKeyConjs returns the conjunction of the primary-key columns of each
// model value in rv (a struct or a slice of them), or nil when one of them
// has no primary key: the dependency is then on any row.
func primaryKeyConjs(ctx context.Context, s *schema.Schema, rv reflect.Value, columns func(modelTable, column string) collation.Column) []deps.Conj {
	objects := rowimage.Values(rv)
	if len(objects) == 0 || len(s.PrimaryFields) == 0 {
		return nil
	}
	conjs := make([]deps.Conj, 0, len(objects))
	for _, obj := range objects {
		conj := make(deps.Conj, 0, len(s.PrimaryFields))
		for _, f := range s.PrimaryFields {
			v, zero := f.ValueOf(ctx, obj)
			if zero {
				return nil
			}
			value, ok := canon(columns, s, f, v)
			if !ok {
				return nil
			}
			conj = append(conj, deps.Term{Column: strings.ToLower(f.DBName), Value: value})
		}
		slices.SortFunc(conj, func(a, b deps.Term) int { return strings.Compare(a.Column, b.Column) })
		conjs = append(conjs, conj)
	}
	return conjs
}

// rememberFlight is the outcome of one fn call shared by concurrent misses.
type rememberFlight struct {
	value    any    // decoded from entry when it is set, else as fn returned it
	entry    []byte // the entry value: fn's value or cached error, encoded; nil when there is none
	err      error
	canceled bool          // fn failed after its caller's context ended
	stamps   []store.Stamp // taken before fn; nil when the store failed
}

// rememberedOf returns the value, or the CacheErrors target, that value,
// the entry cached under c.key, holds; hit is false when c cannot use it.
func rememberedOf[T any](p *Plugin, c *recall, value []byte) (v T, hit bool, cachedErr error) {
	kind, created, data, ok := entry.Remembered(value)
	if !ok || time.Since(created) >= c.ttl {
		// Another format (an earlier release's), or older than this
		// call's TTL allows, whatever the TTL it was stored for.
		return v, false, nil
	}
	if kind == entry.RememberedError {
		for _, target := range c.cacheErrors {
			if target.Error() == string(data) {
				return v, true, target
			}
		}
		return v, false, nil // this caller does not cache that error
	}
	v, err := decodeRemembered[T](c.codec, value)
	if err != nil {
		p.logError(c.ctx, fmt.Errorf("gormcache: Remember %q: decoding the cached %T: %w", c.key, v, err))
		return v, false, nil
	}
	return v, true, nil
}

// fillRemembered calls fn under the stamps of c's dependencies and stores
// its outcome with them.
func fillRemembered[T any](p *Plugin, c *recall, fn func(context.Context) (T, error)) *rememberFlight {
	f := &rememberFlight{}
	stamps, err := p.store.Stamps(c.ctx, c.deps)
	if err != nil {
		p.logError(c.ctx, err)
	} else if p.registerSchemes(c.ctx, c.schemes) {
		f.stamps = stamps
	}
	v, err := call(fillContext(c.ctx), fn)
	if err != nil {
		f.err, f.canceled = err, c.ctx.Err() != nil
		for _, target := range c.cacheErrors {
			if errors.Is(err, target) {
				f.entry = entry.AppendRemembered(nil, entry.RememberedError, time.Now(), []byte(target.Error()))
				p.storeRemembered(c, f.stamps, f.entry)
				break
			}
		}
		return f
	}
	f.value = v
	value, copied, err := encodeRemembered(c.codec, v)
	if err != nil {
		p.logError(c.ctx, fmt.Errorf("gormcache: Remember %q: %T is not cached: %w", c.key, v, err))
		return f
	}
	f.value, f.entry = copied, value
	p.storeRemembered(c, f.stamps, value)
	return f
}

// filling is the value of scopeKey in the context of a fn whose value is
// remembered (fillContext).
type filling struct{}

// fillContext returns ctx for a fn whose value is remembered for every
// caller. It has no request scope: a scope may answer with rows older than
// a write another instance made, which only its request may see (see
// scope.go), and the value must not carry them to the store. And it is
// marked (isFilling) so that the reads of fn that the cache does not
// answer read the source, as a miss does (sourcePool): rows a lagging
// replica returned, stored under stamps taken after the write, would
// outlive its lag.
func fillContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, scopeKey{}, filling{})
}

// isFilling reports whether ctx is a fillContext's.
func isFilling(ctx context.Context) bool {
	_, ok := ctx.Value(scopeKey{}).(filling)
	return ok
}

func (p *Plugin) storeRemembered(c *recall, stamps []store.Stamp, value []byte) {
	if stamps == nil {
		return // without stamps, nothing can tell later whether it is fresh
	}
	e := store.Entry{Value: value, Deps: c.deps, Stamps: stamps}
	if err := p.store.Set(context.WithoutCancel(c.ctx), c.key, e, c.ttl); err != nil {
		p.logError(c.ctx, err)
		return
	}
	p.stats.fill(nil)
}

// call runs fn, turning a panic into an error wrapping ErrPanicked.
func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n\n%s", ErrPanicked, r, debug.Stack())
		}
	}()
	return fn(ctx)
}
