package gormcache

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gormcache/gormcache/store"
)

// A request scope is a first level of cache in front of the store, for the
// length of one request (keyedcache's threaded cache). It keeps each answer
// a plugin gave in it — the entry value a query was served from, or that a
// miss stored, with the dependencies it was computed from — and serves the
// same statement again from that value, decoded or copied as a store hit
// is, with no store call.
//
// A scope learns of invalidations through a log: every delivery of the
// plugin appends the dependencies it renewed, right after renewing them in
// the store, and a scope, whenever it is used, first drops the answers
// that depend on what was appended since it last looked. An answer is kept
// only if nothing it depends on was appended between the moment its lookup
// began and the moment it is kept: a read that raced with a write is served
// once, as the store would have served it, and not kept. Delivery computes
// a write's conjunctions in the schemes the store has registered and in
// those of the answers scopes keep (added before their lookup), so that a
// store that loses its registry cannot make a write miss a kept answer.

// WithRequestScope returns a context carrying a new request scope, or ctx
// itself when it carries one already. Cacheable queries run with it
// (db.WithContext(ctx)), and Remember calls on such a db, are answered once
// as usual — from the store, or on a miss from the database or fn — and a
// statement answered once in the scope is then answered from the scope's
// memory, with no store call, until an invalidation drops it.
//
// Within a scope a read returns what the first answer to its statement
// returned, like a repeatable-read snapshot of the cached answers, except
// for what the same Plugin invalidates in this process — writes through
// GORM, the Invalidate functions, Forget — whoever calls them: each
// invalidation drops from every scope the answers it changes before the
// call that made it returns (a transaction's, when it commits), so that a
// request always reads its own writes, and those of the other requests of
// the process. Writes through other processes sharing the store, or
// through another Plugin, are seen at once by the store, and so by the
// statements a scope has not answered yet, but not by the answers it
// keeps, until it ends: that is what a scope trades for the round trips it
// spares. An answer that a write raced (one its
// invalidation reached while it was looked up) is served, as the store
// gave it, but not kept. Reads inside a transaction bypass scopes as they
// bypass the cache.
//
// Each caller is handed its own copy of an answer, decoded or deep-copied
// as a store hit is. A scope keeps up to [Config.ScopeMemory] of answers
// per Plugin, then keeps no more and serves those it has. It is safe for
// concurrent use by the goroutines that share ctx, and lasts as long as
// ctx is referenced: make one per request or unit of work, never a
// long-lived one. A nil ctx is taken as context.Background().
func WithRequestScope(ctx context.Context) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if _, ok := ctx.Value(scopeKey{}).(*requestScope); ok {
		return ctx
	}
	return context.WithValue(ctx, scopeKey{}, &requestScope{})
}

// RequestScopeHandler returns a handler that serves each request to next
// with a request scope in its context ([WithRequestScope]): the queries
// next runs with r.Context() share it, and it ends with the request.
func RequestScopeHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithRequestScope(r.Context())))
	})
}

type scopeKey struct{}

// requestScope is what WithRequestScope puts in a context: the answers of
// each Plugin that answered in it, apart, as each Plugin delivers its own
// invalidations.
type requestScope struct {
	mu     sync.Mutex
	caches map[*Plugin]*scopeCache
}

// scopeOf returns p's answers in the request scope ctx carries, or nil.
func (p *Plugin) scopeOf(ctx context.Context) *scopeCache {
	if p.cfg.ScopeMemory < 0 || ctx == nil {
		return nil
	}
	rs, ok := ctx.Value(scopeKey{}).(*requestScope)
	if !ok {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	c, ok := rs.caches[p]
	if !ok {
		if rs.caches == nil {
			rs.caches = map[*Plugin]*scopeCache{}
		}
		c = p.scopes.newCache(p.cfg.ScopeMemory)
		rs.caches[p] = c
	}
	return c
}

// scopes is what the request scopes of one Plugin share: the log of what
// its deliveries renewed, and the schemes of the answers they keep.
type scopes struct {
	log invalidationLog

	mu      sync.Mutex
	schemes map[string][]string // namespaced table -> schemes
}

func (s *scopes) newCache(limit int64) *scopeCache {
	s.log.start()
	return &scopeCache{
		log:     &s.log,
		limit:   limit,
		seen:    s.log.position(),
		answers: map[string]*scopedAnswer{},
		byDep:   map[store.Dep][]*scopedAnswer{},
	}
}

// addSchemes adds the schemes of an answer a scope may keep to those every
// delivery from now on places written rows in. It reports false when a
// table would have more than store.MaxSchemes: the answer is not kept.
func (s *scopes) addSchemes(schemes []tableSchemesOf) bool {
	if len(schemes) == 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range schemes {
		list := s.schemes[ts.table]
		for _, sc := range ts.schemes {
			if slices.Contains(list, sc) {
				continue
			}
			if len(list) >= store.MaxSchemes {
				return false
			}
			list = append(list, sc)
		}
		if s.schemes == nil {
			s.schemes = map[string][]string{}
		}
		s.schemes[ts.table] = list
	}
	return true
}

// withSchemes returns the schemes registered for table (namespaced), list,
// with those of the answers scopes keep added.
func (s *scopes) withSchemes(table string, list []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.schemes[table] {
		if !slices.Contains(list, sc) {
			list = append(slices.Clip(list), sc)
		}
	}
	return list
}

// logSize is the number of renewed dependencies the log holds: a scope
// that falls further behind drops every answer it keeps.
const logSize = 4096

// invalidationLog holds the dependencies a Plugin's deliveries renewed
// last, in order, once a scope has been made.
type invalidationLog struct {
	started atomic.Bool
	end     atomic.Uint64 // the dependencies appended so far

	mu   sync.RWMutex
	ring []store.Dep // the dependency at position i is ring[i%logSize]
}

func (l *invalidationLog) start() {
	if l.started.Load() {
		return
	}
	l.mu.Lock()
	if l.ring == nil {
		l.ring = make([]store.Dep, logSize)
	}
	l.mu.Unlock()
	l.started.Store(true)
}

// append logs deps, already renewed in the store. Until a scope is made
// it does nothing: no scope's lookup can have begun before them.
func (l *invalidationLog) append(deps []store.Dep) {
	if !l.started.Load() || len(deps) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	end := l.end.Load()
	for _, d := range deps {
		l.ring[end%logSize] = d
		end++
	}
	l.end.Store(end)
}

// position is where the next dependency will be logged.
func (l *invalidationLog) position() uint64 { return l.end.Load() }

// each calls fn with each dependency logged from position from on, and
// returns the position it read up to. ok is false, and fn is not called,
// when the log no longer holds them all.
func (l *invalidationLog) each(from uint64, fn func(store.Dep)) (to uint64, ok bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	to = l.end.Load()
	if to-from > logSize {
		return to, false
	}
	for i := from; i < to; i++ {
		fn(l.ring[i%logSize])
	}
	return to, true
}

// scopeCache is one Plugin's answers in one request scope.
type scopeCache struct {
	log   *invalidationLog
	limit int64

	mu      sync.Mutex
	seen    uint64 // the log position up to which answers were dropped
	size    int64  // the weight of answers
	answers map[string]*scopedAnswer
	// byDep lists the answers that depend on a dependency, and, until
	// they are compacted away, answers dropped since they were listed:
	// dropping one answer costs no search through the long lists (a
	// table's, Config.Prefix's global one).
	byDep map[store.Dep][]*scopedAnswer
	// listed counts the elements of byDep's lists; live those of answers
	// not dropped.
	listed, live int
}

type scopedAnswer struct {
	key     string
	value   []byte // never modified
	deps    []store.Dep
	weight  int64
	dropped bool
}

// The weight of a kept answer: its value, key and dependencies, and what
// keeping them costs besides (map slots, headers).
const (
	answerOverhead = 128
	depOverhead    = 48
)

// get returns the value kept for key. The caller must not modify it.
func (c *scopeCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	a, ok := c.answers[key]
	if !ok {
		return nil, false
	}
	return a.value, true
}

// position is where the log stands before a lookup that may be kept.
func (c *scopeCache) position() uint64 { return c.log.position() }

// keep keeps value, the answer to key, which depends on deps and was looked
// up from log position since on, unless one of deps was renewed since, the
// key is kept already, or the scope is full. c may be nil: nothing is kept.
func (c *scopeCache) keep(key string, value []byte, deps []store.Dep, since uint64) {
	if c == nil || value == nil {
		return
	}
	weight := int64(len(key) + len(value) + answerOverhead)
	for _, d := range deps {
		weight += int64(len(d.Table) + len(d.Cond) + depOverhead)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.catchUp()
	if _, ok := c.answers[key]; ok || c.size+weight > c.limit {
		return
	}
	renewed := false
	if _, ok := c.log.each(since, func(d store.Dep) { renewed = renewed || slices.Contains(deps, d) }); !ok || renewed {
		return
	}
	a := &scopedAnswer{key: key, value: value, deps: deps, weight: weight}
	c.answers[key] = a
	c.size += weight
	for _, d := range deps {
		c.byDep[d] = append(c.byDep[d], a)
	}
	c.listed += len(deps)
	c.live += len(deps)
	if c.listed > 2*c.live+64 {
		c.compact()
	}
}

// catchUp drops the answers whose dependencies were renewed since it last
// ran, or every answer when the log no longer holds those dependencies.
func (c *scopeCache) catchUp() {
	if c.log.position() == c.seen {
		return
	}
	to, ok := c.log.each(c.seen, func(d store.Dep) {
		list := c.byDep[d]
		for _, a := range list {
			c.drop(a)
		}
		delete(c.byDep, d)
		c.listed -= len(list)
	})
	if !ok {
		clear(c.answers)
		clear(c.byDep)
		c.size, c.listed, c.live = 0, 0, 0
	}
	c.seen = to
}

func (c *scopeCache) drop(a *scopedAnswer) {
	if a.dropped {
		return
	}
	a.dropped = true
	delete(c.answers, a.key)
	c.size -= a.weight
	c.live -= len(a.deps)
}

// compact lists the answers not dropped only.
func (c *scopeCache) compact() {
	clear(c.byDep)
	for _, a := range c.answers {
		for _, d := range a.deps {
			c.byDep[d] = append(c.byDep[d], a)
		}
	}
	c.listed = c.live
}
