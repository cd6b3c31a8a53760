// Package invalidation is gormcache's write path plumbing: it delays the
// invalidations of a transaction until it commits.
//
// GORM has no commit hook, so Wrap puts a gorm.ConnPool around the database
// pool whose transactions (Tx) keep the invalidations their writes queued
// (Defer) and deliver them right after Commit, or drop them on Rollback.
// Writes outside a transaction are delivered at once.
package invalidation

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache/store"
)

// Sink delivers invalidations to the cache. It must not fail the write: a
// delivery error is the sink's to handle.
type Sink func(ctx context.Context, deps []store.Dep)

// Work computes the dependencies a write invalidates. It runs after the
// write commits: what it reads then (the schemes cached queries registered)
// is at least as recent as the commit.
type Work func(ctx context.Context) []store.Dep

// Pool wraps a gorm.ConnPool so that transactions begun on it are *Tx.
type Pool struct {
	gorm.ConnPool
	sink Sink
}

// Wrap returns pool wrapped so that its transactions deliver their queued
// invalidations to sink after commit. A pool already wrapped is returned as
// it is, so that initializing a plugin twice wraps once.
func Wrap(pool gorm.ConnPool, sink Sink) gorm.ConnPool {
	if _, ok := pool.(*Pool); ok {
		return pool
	}
	return &Pool{ConnPool: pool, sink: sink}
}

// BeginTx implements gorm.ConnPoolBeginner.
func (p *Pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	var (
		inner gorm.ConnPool
		err   error
	)
	switch b := p.ConnPool.(type) {
	case gorm.TxBeginner:
		var tx *sql.Tx
		tx, err = b.BeginTx(ctx, opts)
		if tx != nil {
			inner = tx
		}
	case gorm.ConnPoolBeginner:
		inner, err = b.BeginTx(ctx, opts)
	default:
		return nil, gorm.ErrInvalidTransaction
	}
	if err != nil {
		return nil, err
	}
	return newTx(inner, p.sink, p.GetDBConn), nil
}

// Adopt returns tx, a transaction begun on a pool that is not wrapped (one
// that another plugin, such as dbresolver, chose for the statement), wrapped
// so that its queued invalidations are delivered to sink after its Commit.
// A transaction already wrapped is returned as it is.
func Adopt(tx gorm.ConnPool, sink Sink) gorm.ConnPool {
	if TxOf(tx) != nil {
		return tx
	}
	return newTx(tx, sink, nil)
}

func newTx(inner gorm.ConnPool, sink Sink, dbConn func() (*sql.DB, error)) gorm.ConnPool {
	t := &Tx{ConnPool: inner, sink: sink, dbConn: dbConn}
	if _, ok := inner.(gorm.Tx); ok {
		// Keep the gorm.Tx interface (StmtContext) that prepared-statement
		// mode requires of a transaction.
		return &stmtTx{t}
	}
	return t
}

// GetDBConn implements gorm.GetDBConnector, so that db.DB() still works.
func (p *Pool) GetDBConn() (*sql.DB, error) {
	switch c := p.ConnPool.(type) {
	case *sql.DB:
		return c, nil
	case gorm.GetDBConnector:
		return c.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// Ping pings the wrapped pool when it can.
func (p *Pool) Ping() error {
	if pinger, ok := p.ConnPool.(interface{ Ping() error }); ok {
		return pinger.Ping()
	}
	return nil
}

// Tx is a transaction of a wrapped pool. Its queued invalidations are
// delivered once, after Commit.
type Tx struct {
	gorm.ConnPool
	sink   Sink
	dbConn func() (*sql.DB, error) // the pool's GetDBConn; nil when adopted

	mu      sync.Mutex
	pending []Work
}

// Defer queues work whose dependencies are delivered after the transaction
// commits.
func (t *Tx) Defer(work Work) {
	t.mu.Lock()
	t.pending = append(t.pending, work)
	t.mu.Unlock()
}

func (t *Tx) take() []Work {
	t.mu.Lock()
	defer t.mu.Unlock()
	work := t.pending
	t.pending = nil
	return work
}

// Commit commits the transaction and then delivers its invalidations. They
// are delivered even when Commit fails: the outcome of a failed commit may
// be unknown, and invalidating too much is harmless.
func (t *Tx) Commit() error {
	err := t.ConnPool.(gorm.TxCommitter).Commit()
	var deps []store.Dep
	ctx := context.Background()
	for _, w := range t.take() {
		deps = append(deps, w(ctx)...)
	}
	if len(deps) > 0 {
		t.sink(ctx, deps)
	}
	return err
}

// Rollback rolls the transaction back and drops its invalidations.
func (t *Tx) Rollback() error {
	t.take()
	return t.ConnPool.(gorm.TxCommitter).Rollback()
}

// GetDBConn implements gorm.GetDBConnector.
func (t *Tx) GetDBConn() (*sql.DB, error) {
	if t.dbConn != nil {
		return t.dbConn()
	}
	if c, ok := t.ConnPool.(gorm.GetDBConnector); ok {
		return c.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// stmtTx is a Tx over a transaction that implements gorm.Tx.
type stmtTx struct{ *Tx }

// StmtContext implements gorm.Tx.
func (t *stmtTx) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.ConnPool.(gorm.Tx).StmtContext(ctx, stmt)
}

// Deliver runs work and sends its dependencies to sink after the commit of
// the transaction pool belongs to, or at once when pool is not a
// transaction of a wrapped pool: autocommit writes, and paths that escape
// the wrapper (db.Connection, a *sql.Tx the application passed to GORM
// itself).
func Deliver(ctx context.Context, pool gorm.ConnPool, sink Sink, work Work) {
	if tx := TxOf(pool); tx != nil {
		tx.Defer(work)
		return
	}
	if deps := work(ctx); len(deps) > 0 {
		sink(ctx, deps)
	}
}

// Deps returns Work that always yields deps.
func Deps(deps ...store.Dep) Work {
	return func(context.Context) []store.Dep { return deps }
}

// InTransaction reports whether pool is a transaction, wrapped or not.
func InTransaction(pool gorm.ConnPool) bool {
	_, ok := pool.(gorm.TxCommitter)
	return ok
}

// TxOf returns the wrapped transaction pool is, or nil.
func TxOf(pool gorm.ConnPool) *Tx {
	if p, ok := pool.(*gorm.PreparedStmtTX); ok {
		pool = p.Tx
	}
	switch t := pool.(type) {
	case *Tx:
		return t
	case *stmtTx:
		return t.Tx
	}
	return nil
}
