package gormcache

import (
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/invalidation"
)

// readRows reads, inside the write's transaction (pool), the rows of the
// statement's table that where selects, as row images; ok is false when
// they cannot be read (the caller then invalidates the table). With
// forUpdate the rows are about to change: they are locked FOR UPDATE, and on
// SQLite the write lock is taken first — a transaction that reads before it
// writes must upgrade its lock, which SQLite refuses at once, without
// waiting, whenever another connection writes.
//
// The read must never make the user's write fail. Where a failed statement
// aborts the transaction (PostgreSQL), the first read of a table runs under
// a savepoint; see imageTrust. broken is the error that left the
// transaction unusable nonetheless: the savepoint could not be rolled back.
func (p *Plugin) readRows(db *gorm.DB, s *schema.Schema, pool gorm.ConnPool, where clause.Where, forUpdate bool, limit int) (images []invalidation.Image, ok bool, broken error) {
	table := sqlscan.ModelTable(s.Table)
	trusted, failing := p.trust.state(table)
	if failing {
		return nil, false, nil
	}
	ctx := db.Statement.Context
	dialect := db.Dialector.Name()
	if forUpdate && dialect == "sqlite" {
		// A write of no row takes the write lock, waiting for it as long as
		// the connection's busy timeout allows, as the user's write would.
		if _, err := pool.ExecContext(ctx, "DELETE FROM "+db.Statement.Quote(s.Table)+" WHERE 0"); err != nil {
			p.trust.failed(table)
			return nil, false, nil
		}
	}
	guard := !trusted && dialect == "postgres" && invalidation.InTransaction(pool)
	if guard {
		if _, err := pool.ExecContext(ctx, "SAVEPOINT gormcache_images"); err != nil {
			return nil, false, nil
		}
	}
	images, err := invalidation.ReadImages(db, pool, s, where, forUpdate && dialect != "sqlite", limit)
	tooMany := errors.Is(err, invalidation.ErrTooManyRows)
	if guard {
		if err != nil && !tooMany {
			if _, rbErr := pool.ExecContext(ctx, "ROLLBACK TO SAVEPOINT gormcache_images"); rbErr != nil {
				return nil, false, rbErr
			}
		}
		if _, relErr := pool.ExecContext(ctx, "RELEASE SAVEPOINT gormcache_images"); relErr != nil && err == nil {
			err = relErr
		}
	}
	switch {
	case err == nil:
		p.trust.worked(table)
		return images, true, nil
	case !tooMany:
		p.trust.failed(table)
	}
	return nil, false, nil
}

// retryImagesAfter is how long a table whose rows could not be read is
// written without reading them, before the plugin tries again.
const retryImagesAfter = time.Minute

// imageTrust remembers, per table, how reading its rows inside a write's
// transaction went. The read uses the write's own conditions, so it fails
// where the write succeeds only for what is the table's own: a view with
// INSTEAD OF triggers that cannot be locked, a column privilege the write
// does not need. Until a table's rows have been read once they are read
// under a savepoint (two round trips more on PostgreSQL); once a read
// has worked, bare; after a failure, not at all (the table is invalidated
// as a whole) for retryImagesAfter. DDL on a table forgets what was learned
// of it.
type imageTrust struct {
	m sync.Map // table -> time.Time: zero once a read worked, else when one failed
}

func (t *imageTrust) state(table string) (trusted, failing bool) {
	v, ok := t.m.Load(table)
	if !ok {
		return false, false
	}
	at := v.(time.Time)
	if at.IsZero() {
		return true, false
	}
	return false, time.Since(at) < retryImagesAfter
}

func (t *imageTrust) worked(table string) {
	if v, ok := t.m.Load(table); !ok || !v.(time.Time).IsZero() {
		t.m.Store(table, time.Time{})
	}
}

func (t *imageTrust) failed(table string) { t.m.Store(table, time.Now()) }

// forget drops what was learned of tables, or of every table.
func (t *imageTrust) forget(tables []string, all bool) {
	if all {
		t.m.Clear()
		return
	}
	for _, table := range tables {
		t.m.Delete(table)
	}
}
