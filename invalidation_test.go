package gormcache_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/invalidation"
)

// events records what Config.OnInvalidate reports.
type events struct {
	mu   sync.Mutex
	list []invalidation.Event
}

func (ev *events) on(_ context.Context, e invalidation.Event) {
	ev.mu.Lock()
	ev.list = append(ev.list, e)
	ev.mu.Unlock()
}

// take returns the events reported since the last take.
func (ev *events) take() []invalidation.Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	list := ev.list
	ev.list = nil
	return list
}

// TestOnInvalidate checks what each kind of write reports, and when: after
// the commit, once per statement, nothing on rollback.
func TestOnInvalidate(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		var ev events
		e := newEnv(t, b, gormcache.Config{OnInvalidate: ev.on})
		e.seed()
		ev.take()
		// A cached read registers the scheme user_id: writes to photos
		// then renew the conjunctions of their rows.
		require.NoError(t, e.cached().Where("user_id = ?", 1).Find(&[]Photo{}).Error)

		one := func(what string) invalidation.Event {
			t.Helper()
			list := ev.take()
			require.Len(t, list, 1, what)
			require.NoError(t, list[0].Err, what)
			return list[0]
		}

		require.NoError(t, e.db.Model(&Photo{ID: 1}).Update("user_id", 2).Error)
		got := one("update")
		assert.Equal(t, invalidation.Rows, got.Level)
		assert.Equal(t, invalidation.ReasonNone, got.Reason)
		assert.Equal(t, []string{"photos"}, got.Tables)
		assert.Equal(t, 2, got.Rows, "user_id 1 before, 2 after")
		assert.Contains(t, got.Statement, "UPDATE")

		require.NoError(t, e.db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&Photo{ID: 1, UserID: 1, Title: "up"}).Error)
		got = one("upsert")
		assert.Equal(t, invalidation.Tables, got.Level)
		assert.Equal(t, invalidation.ReasonStatement, got.Reason)

		require.NoError(t, e.db.Exec("UPDATE photos SET status = 3 WHERE id = 2").Error)
		got = one("exec")
		assert.Equal(t, invalidation.ReasonRawSQL, got.Reason)
		assert.Equal(t, []string{"photos"}, got.Tables)

		unparsed := map[string]string{"sqlite": "REINDEX photos", "postgres": "REINDEX TABLE photos", "mysql": "OPTIMIZE TABLE photos"}
		require.NoError(t, e.db.Exec(unparsed[b.Name]).Error)
		got = one("unparsed SQL")
		assert.Equal(t, invalidation.All, got.Level)
		assert.Equal(t, invalidation.ReasonUnparsed, got.Reason)

		require.NoError(t, e.db.Transaction(func(tx *gorm.DB) error {
			require.NoError(t, tx.Model(&Photo{ID: 2}).Update("title", "a").Error)
			require.NoError(t, tx.Model(&Photo{ID: 3}).Update("title", "b").Error)
			assert.Empty(t, ev.take(), "reported before the commit")
			return nil
		}))
		assert.Len(t, ev.take(), 2, "one event per statement of the transaction")

		_ = e.db.Transaction(func(tx *gorm.DB) error {
			require.NoError(t, tx.Model(&Photo{ID: 2}).Update("title", "c").Error)
			return gorm.ErrInvalidData
		})
		assert.Empty(t, ev.take(), "a rolled back write reported")

		require.NoError(t, gormcache.InvalidateTable(e.db, "users"))
		got = one("InvalidateTable")
		assert.Equal(t, invalidation.ReasonManual, got.Reason)
		assert.Empty(t, got.Statement)

		require.NoError(t, gormcache.InvalidateAll(e.db))
		assert.Equal(t, invalidation.All, one("InvalidateAll").Level)

		require.NoError(t, gormcache.Forget(e.db, gormcache.Key("report", 1)))
		got = one("Forget")
		assert.Equal(t, invalidation.Key, got.Level)
		assert.Equal(t, gormcache.Key("report", 1), got.Key)
	})
}

// TestOnInvalidateCascades checks that tables reached by a cascading
// foreign key are reported.
func TestOnInvalidateCascades(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		var ev events
		e := newEnv(t, b, gormcache.Config{OnInvalidate: ev.on})
		require.NoError(t, e.db.AutoMigrate(&family{}, &member{}))
		require.NoError(t, e.db.Create(&family{Name: "a"}).Error)
		require.NoError(t, e.db.Create(&member{FamilyID: 1}).Error)
		ev.take()
		require.NoError(t, e.db.Delete(&family{ID: 1}).Error)
		list := ev.take()
		require.Len(t, list, 1)
		assert.Equal(t, []string{"members"}, list[0].Cascaded)
	})
}

// cancelAfterWrite is the context key of the cancel function the test's
// callback calls once GORM has run a create: the request's timeout, or its
// client gone, right after the write.
type cancelAfterWrite struct{}

// cancelable returns a context that cancelWrite cancels.
func cancelable() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return context.WithValue(ctx, cancelAfterWrite{}, cancel), cancel
}

// cancelWrite, a callback, cancels the context of a statement that
// cancelable made.
func cancelWrite(db *gorm.DB) {
	if cancel, ok := db.Statement.Context.Value(cancelAfterWrite{}).(context.CancelFunc); ok {
		cancel()
	}
}

// TestWritesWhoseContextEndsKeepTheirPrecision checks that a write whose
// context ends once the database ran it still invalidates what it changed,
// and only that: the plugin reads the foreign keys it needs after the
// write whatever the caller's context, rather than invalidate everything
// for want of them.
func TestWritesWhoseContextEndsKeepTheirPrecision(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		d := b.Open(t)
		// Tables made without the plugin, whose foreign keys it has not read.
		migrator, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
		require.NoError(t, err)
		require.NoError(t, migrator.AutoMigrate(&family{}, &member{}))
		var ev events
		db := openWith(t, d, gormcache.New(gormcache.Config{Store: b.store.new(t), OnInvalidate: ev.on}))
		require.NoError(t, db.Callback().Create().After("gorm:create").Before("gormcache:after_create").
			Register("test:cancel", cancelWrite))
		ctx, cancel := cancelable()
		defer cancel()
		require.NoError(t, db.WithContext(ctx).Session(&gorm.Session{SkipDefaultTransaction: true}).Create(&family{Name: "a"}).Error)
		require.Error(t, ctx.Err())
		list := ev.take()
		require.Len(t, list, 1)
		assert.NotEqual(t, invalidation.All, list[0].Level, "invalidated everything: %s", list[0].Reason)
		assert.Equal(t, []string{"members"}, list[0].Cascaded)

		// An update whose context ends before it runs fails, and the
		// plugin's read of its rows with it: that says nothing of the
		// table, whose next write is read by rows.
		require.NoError(t, db.Callback().Update().After("gormcache:before_update").Before("gorm:update").
			Register("test:cancel", cancelWrite))
		ctx, cancel = cancelable()
		defer cancel()
		require.Error(t, db.WithContext(ctx).Model(&family{ID: 1}).Update("name", "b").Error)
		ev.take()
		require.NoError(t, db.Model(&family{ID: 1}).Update("name", "c").Error)
		list = ev.take()
		require.Len(t, list, 1)
		assert.Equal(t, invalidation.Rows, list[0].Level, "the next write: %s", list[0].Reason)
	})
}
