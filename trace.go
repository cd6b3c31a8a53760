package gormcache

import (
	"context"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/store"
)

// This file tells traces and logs what the cache did. With
// gorm.io/plugin/opentelemetry registered, the span of each cacheable query
// carries the outcome (attribute gormcache.cache: hit, miss or bypass), why
// a query bypassed the cache (gormcache.bypass_reason), the key
// (gormcache.key) and, on a hit, how old the entry's rows are
// (gormcache.entry.age_ms) and whether a request scope answered it
// (gormcache.request_scope). The invalidation a write causes is a span of its
// own, gormcache.invalidate, started when it is delivered: under the span of
// the write's statement, or for a transaction, right after its commit,
// under the span of the first statement that asked for it. It carries the
// stamps renewed (gormcache.invalidated), the tables and the error, if any.
// Only the OpenTelemetry API is used: without a tracer provider, all of it
// costs a context lookup.
//
// GORM's logger logs a hit as it logs every statement, with its SQL, rows
// and the time the callback chain took; the SQL ends with hitComment (or
// scopeHitComment), so that a log says what the cache served.

// Attributes of the spans.
const (
	attrCache       = attribute.Key("gormcache.cache")
	attrReason      = attribute.Key("gormcache.bypass_reason")
	attrKey         = attribute.Key("gormcache.key")
	attrAge         = attribute.Key("gormcache.entry.age_ms")
	attrScope       = attribute.Key("gormcache.request_scope")
	attrInvalidated = attribute.Key("gormcache.invalidated")
	attrChanges     = attribute.Key("gormcache.changes")
	attrTables      = attribute.Key("gormcache.tables")
)

// Why a cacheable query bypassed the cache, as gormcache.bypass_reason says.
const (
	bypassEnded       = "context_ended" // the statement's context had ended: GORM fails it as without the cache
	bypassNoCache     = "no_cache"      // the NoCache clause
	bypassTransaction = "transaction"   // a read inside a transaction
	bypassLocking     = "locking"       // FOR UPDATE, FOR SHARE...
	bypassClosed      = "closed"        // the plugin is closed
	bypassKey         = "no_key"        // no key: the database's identity is unknown, or the vars cannot be keyed
	bypassUncacheable = "uncacheable"   // SQL that writes, cannot be analysed, or whose result changes without a write
	bypassUnreplayed  = "unreplayable"  // a result the cache cannot record or replay
	bypassShared      = "shared_read"   // the read this one waited for failed, or this one's context ended first
)

// hitComment ends the SQL GORM logs (and its tracing plugin records) for a
// query the cache served; scopeHitComment for one a request scope served.
const (
	hitComment      = " /* gormcache: hit */"
	scopeHitComment = " /* gormcache: scope hit */"
)

// otelQuery is the callback gorm.io/plugin/opentelemetry registers after
// GORM's query: with it, a statement has a span of its own.
const otelQuery = "otel:after:select"

// querySpan returns the span of db's statement, when it has one of its
// own (gorm.io/plugin/opentelemetry's) and records; nil otherwise, and
// then nothing else is done: the attributes of a query must not land on
// the span of whatever runs it.
func querySpan(db *gorm.DB) trace.Span {
	span := trace.SpanFromContext(db.Statement.Context)
	if !span.IsRecording() {
		return nil
	}
	if db.Callback().Query().Get(otelQuery) == nil {
		return nil
	}
	return span
}

// hit counts a hit of r, whose value is value, marks the SQL GORM logs,
// and tells the statement's span; scoped tells a request scope answered it.
func (p *Plugin) hit(db *gorm.DB, r *read, value []byte, scoped bool) {
	comment := hitComment
	if scoped {
		p.stats.scopeHit(p.stats.table(r.table))
		comment = scopeHitComment
	} else {
		p.stats.hit(p.stats.table(r.table))
	}
	db.Statement.SQL.WriteString(comment)
	if span := querySpan(db); span != nil {
		attrs := []attribute.KeyValue{attrCache.String("hit"), attrKey.String(r.key), attrScope.Bool(scoped)}
		if created, ok := entry.Created(value); ok {
			attrs = append(attrs, attrAge.Int64(time.Since(created).Milliseconds()))
		}
		span.SetAttributes(attrs...)
	}
}

// miss counts a miss of r and tells the statement's span.
func (p *Plugin) miss(db *gorm.DB, r *read) {
	r.counts = p.stats.table(r.table)
	p.stats.miss(r.counts)
	if span := querySpan(db); span != nil {
		span.SetAttributes(attrCache.String("miss"), attrKey.String(r.key))
	}
}

// bypass counts a cacheable query that bypassed the cache, and tells the
// statement's span why.
func (p *Plugin) bypass(db *gorm.DB, reason string) {
	p.stats.bypassed.Add(1)
	if span := querySpan(db); span != nil {
		span.SetAttributes(attrCache.String("bypass"), attrReason.String(reason))
	}
}

// bypassReason is why a read of route routeBypass bypasses the cache.
func bypassReason(f readFacts) string {
	switch {
	case f.ended:
		return bypassEnded
	case f.noCache:
		return bypassNoCache
	case f.inTx:
		return bypassTransaction
	case f.locking:
		return bypassLocking
	}
	return bypassClosed
}

// traceDelivery records the delivery of changes, which renewed deps (or
// failed with err), as a span gormcache.invalidate: under the span of ctx,
// else (a commit) of the first change's statement.
func traceDelivery(ctx context.Context, changes []*change, deps []store.Dep, err error) {
	parent := trace.SpanFromContext(ctx)
	for _, c := range changes {
		if parent.SpanContext().IsValid() {
			break
		}
		parent = c.span
	}
	if !parent.SpanContext().IsSampled() {
		return
	}
	var tables []string
	for _, c := range changes {
		for _, t := range append(c.event.Tables, c.event.Cascaded...) {
			if !slices.Contains(tables, t) {
				tables = append(tables, t)
			}
		}
	}
	_, span := parent.TracerProvider().Tracer("github.com/gormcache/gormcache").
		Start(trace.ContextWithSpan(ctx, parent), "gormcache.invalidate", trace.WithSpanKind(trace.SpanKindInternal))
	defer span.End()
	span.SetAttributes(attrInvalidated.Int(len(deps)), attrChanges.Int(len(changes)), attrTables.StringSlice(tables))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "the store failed to invalidate")
	}
}
