// Package aftercommit runs work right after a transaction commits, for a
// database library, GORM, that has no commit hook.
//
// Wrap puts a gorm.ConnPool around the database pool whose transactions
// (Tx) keep the work queued on them (Deliver) and hand it, all at once, to a
// sink right after Commit, or after Rollback to another that keeps what the
// rollback did not undo (Sinks). Work queued outside a
// transaction goes to the sink at once. The work is of the caller's type W:
// gormcache queues what each write asks to invalidate, and its sink resolves
// all of a transaction's at once.
package aftercommit

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// Sink receives the work of a transaction after it committed, or of a
// statement outside any transaction. It must not fail: what goes wrong is
// the sink's to handle.
type Sink[W any] func(ctx context.Context, work []W)

// Pool wraps a gorm.ConnPool so that transactions begun on it are *Tx.
type Pool[W any] struct {
	gorm.ConnPool
	sinks Sinks[W]
}

// Sinks are where a transaction's queued work goes: to Committed after it
// commits, to RolledBack (when set) after it rolls back, for the work a
// rollback may not undo (MySQL tables without transactions).
type Sinks[W any] struct {
	Committed, RolledBack Sink[W]
}

// Wrap returns pool wrapped so that its transactions hand their queued work
// to sinks. A pool already wrapped is returned as it is, so that wrapping
// twice (a plugin initialized again) wraps once.
func Wrap[W any](pool gorm.ConnPool, sinks Sinks[W]) gorm.ConnPool {
	if _, ok := pool.(*Pool[W]); ok {
		return pool
	}
	return &Pool[W]{ConnPool: pool, sinks: sinks}
}

// BeginTx implements gorm.ConnPoolBeginner.
func (p *Pool[W]) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
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
	return newTx(inner, p, p.sinks, p.GetDBConn), nil
}

// GetDBConn implements gorm.GetDBConnector, so that db.DB() still works.
func (p *Pool[W]) GetDBConn() (*sql.DB, error) {
	switch c := p.ConnPool.(type) {
	case *sql.DB:
		return c, nil
	case gorm.GetDBConnector:
		return c.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// Ping pings the wrapped pool when it can.
func (p *Pool[W]) Ping() error {
	if pinger, ok := p.ConnPool.(interface{ Ping() error }); ok {
		return pinger.Ping()
	}
	return nil
}

// Adopt returns tx, a transaction begun on a pool that is not wrapped (one
// that another plugin chose for the statement), wrapped so that its queued
// work goes to sinks. A transaction already wrapped is returned as it is.
// Its Origin is unknown.
func Adopt[W any](tx gorm.ConnPool, sinks Sinks[W]) gorm.ConnPool {
	if TxOf[W](tx) != nil {
		return tx
	}
	return newTx(tx, nil, sinks, nil)
}

func newTx[W any](inner, origin gorm.ConnPool, sinks Sinks[W], dbConn func() (*sql.DB, error)) gorm.ConnPool {
	t := &Tx[W]{ConnPool: inner, origin: origin, sinks: sinks, dbConn: dbConn}
	if _, ok := inner.(gorm.Tx); ok {
		// Keep the gorm.Tx interface (StmtContext) that prepared-statement
		// mode requires of a transaction.
		return &stmtTx[W]{t}
	}
	return t
}

// Tx is a transaction of a wrapped pool. Its queued work goes to a sink
// once, after Commit or Rollback.
type Tx[W any] struct {
	gorm.ConnPool
	origin gorm.ConnPool // the pool it was begun on; nil when unknown
	sinks  Sinks[W]
	dbConn func() (*sql.DB, error) // the pool's GetDBConn; nil when adopted

	mu      sync.Mutex
	pending []W
	// ended: the database committed the transaction on its own (see
	// Committed); what follows commits as it runs.
	ended bool
}

// Origin returns the *Pool the transaction was begun on, or nil for one
// Adopt wrapped, whose pool is unknown.
func (t *Tx[W]) Origin() gorm.ConnPool { return t.origin }

// Defer queues work for after the transaction commits, or hands it to the
// sink at once once the database has ended the transaction (Committed).
func (t *Tx[W]) Defer(work W) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		t.sinks.Committed(context.Background(), []W{work})
		return
	}
	t.pending = append(t.pending, work)
	t.mu.Unlock()
}

// Committed tells that the database has committed the transaction on its
// own, or that a statement of the application's did (a raw COMMIT): MySQL
// commits it before DDL, and runs the statements that follow in autocommit
// mode, so that neither the work queued so far nor the work of those
// statements waits for Commit, nor is dropped by Rollback.
func (t *Tx[W]) Committed() {
	t.mu.Lock()
	t.ended = true
	t.mu.Unlock()
	if work := t.take(); len(work) > 0 {
		t.sinks.Committed(context.Background(), work)
	}
}

// Began tells that a transaction has begun again on the connection after
// the database ended the one before (Committed): the work of the
// statements that follow waits for Commit again, or is dropped by
// Rollback.
func (t *Tx[W]) Began() {
	t.mu.Lock()
	t.ended = false
	t.mu.Unlock()
}

func (t *Tx[W]) take() []W {
	t.mu.Lock()
	defer t.mu.Unlock()
	work := t.pending
	t.pending = nil
	return work
}

// Commit commits the transaction and then hands its queued work to the
// Committed sink. It does so even when Commit fails: the outcome of a
// failed commit may be unknown, and the work (invalidating) must then be
// done anyway.
func (t *Tx[W]) Commit() error {
	err := t.ConnPool.(gorm.TxCommitter).Commit()
	if work := t.take(); len(work) > 0 {
		t.sinks.Committed(context.Background(), work)
	}
	return err
}

// Rollback rolls the transaction back and hands its queued work to the
// RolledBack sink, if any, which tells what of it the rollback did not
// undo; without one the work is dropped.
func (t *Tx[W]) Rollback() error {
	work := t.take()
	err := t.ConnPool.(gorm.TxCommitter).Rollback()
	if len(work) > 0 && t.sinks.RolledBack != nil {
		t.sinks.RolledBack(context.Background(), work)
	}
	return err
}

// GetDBConn implements gorm.GetDBConnector.
func (t *Tx[W]) GetDBConn() (*sql.DB, error) {
	if t.dbConn != nil {
		return t.dbConn()
	}
	if c, ok := t.ConnPool.(gorm.GetDBConnector); ok {
		return c.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// stmtTx is a Tx over a transaction that implements gorm.Tx.
type stmtTx[W any] struct{ *Tx[W] }

// StmtContext implements gorm.Tx.
func (t *stmtTx[W]) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.ConnPool.(gorm.Tx).StmtContext(ctx, stmt)
}

// Deliver queues work on the wrapped transaction pool belongs to, for its
// sinks, or hands it to sink at once when pool is not one:
// a statement outside any transaction, or in a transaction that escaped
// the wrapper (db.Connection, a *sql.Tx the application gave GORM itself).
func Deliver[W any](ctx context.Context, pool gorm.ConnPool, sink Sink[W], work W) {
	if tx := TxOf[W](pool); tx != nil {
		tx.Defer(work)
		return
	}
	sink(ctx, []W{work})
}

// InTransaction reports whether pool is a transaction, wrapped or not.
func InTransaction(pool gorm.ConnPool) bool {
	_, ok := pool.(gorm.TxCommitter)
	return ok
}

// TxOf returns the wrapped transaction pool is, or nil.
func TxOf[W any](pool gorm.ConnPool) *Tx[W] {
	if p, ok := pool.(*gorm.PreparedStmtTX); ok {
		pool = p.Tx
	}
	switch t := pool.(type) {
	case *Tx[W]:
		return t
	case *stmtTx[W]:
		return t.Tx
	}
	return nil
}
