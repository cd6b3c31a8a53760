package tracing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	otelgorm "gorm.io/plugin/opentelemetry/tracing"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/blog"
)

// open returns a blog database with gormcache and the tracing plugin,
// registered in the order given, and the recorder of its spans.
func open(t *testing.T, cacheFirst bool) (*gorm.DB, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	db, err := gorm.Open(testdb.Sqlite(t), &gorm.Config{Logger: logger.Discard})
	require.NoError(t, err)
	plugins := []gorm.Plugin{gormcache.New(gormcache.Config{}), otelgorm.NewPlugin(otelgorm.WithTracerProvider(tp), otelgorm.WithoutMetrics())}
	if !cacheFirst {
		plugins[0], plugins[1] = plugins[1], plugins[0]
	}
	for _, p := range plugins {
		require.NoError(t, db.Use(p))
	}
	require.NoError(t, blog.Seed(db))
	return db, rec
}

// attrs returns the attributes of a span by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// spans returns the spans ended since the call n of ended, and the new n.
func spans(rec *tracetest.SpanRecorder, n int) ([]sdktrace.ReadOnlySpan, int) {
	all := rec.Ended()
	return all[n:], len(all)
}

// only returns the one span named name of ss (the plugin names spans
// after the operation and the table).
func only(t *testing.T, ss []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range ss {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %s", name)
	return found[0]
}

func TestQuerySpans(t *testing.T) {
	for _, cacheFirst := range []bool{true, false} {
		db, rec := open(t, cacheFirst)
		ctx := context.Background()
		n := len(rec.Ended())
		read := func(db *gorm.DB) sdktrace.ReadOnlySpan {
			t.Helper()
			var posts []blog.Post
			require.NoError(t, db.WithContext(ctx).Where("published = ?", true).Find(&posts).Error)
			var ss []sdktrace.ReadOnlySpan
			ss, n = spans(rec, n)
			return only(t, ss, "select posts")
		}
		cached := db.Clauses(gormcache.Cache())

		miss := attrs(read(cached))
		require.Equal(t, "miss", miss["gormcache.cache"].AsString())
		require.NotEmpty(t, miss["gormcache.key"].AsString())

		time.Sleep(20 * time.Millisecond)
		hitSpan := read(cached)
		hit := attrs(hitSpan)
		require.Equal(t, "hit", hit["gormcache.cache"].AsString())
		require.Equal(t, miss["gormcache.key"], hit["gormcache.key"])
		require.GreaterOrEqual(t, hit["gormcache.entry.age_ms"].AsInt64(), int64(20), "the age of the entry's rows")
		require.Less(t, hit["gormcache.entry.age_ms"].AsInt64(), int64(10_000))
		require.Contains(t, hit["db.query.text"].AsString(), "/* gormcache: hit */")

		bypass := attrs(read(db.Clauses(gormcache.Cache(), gormcache.NoCache())))
		require.Equal(t, "bypass", bypass["gormcache.cache"].AsString())
		require.Equal(t, "no_cache", bypass["gormcache.bypass_reason"].AsString())

		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			in := attrs(read(tx.Clauses(gormcache.Cache())))
			require.Equal(t, "transaction", in["gormcache.bypass_reason"].AsString())
			return nil
		}))
		_, n = spans(rec, n)

		plain := attrs(read(db))
		require.NotContains(t, plain, attribute.Key("gormcache.cache"), "a query the cache does not handle")
	}
}

func TestInvalidationSpans(t *testing.T) {
	for _, cacheFirst := range []bool{true, false} {
		db, rec := open(t, cacheFirst)
		ctx := context.Background()
		var posts []blog.Post
		require.NoError(t, db.WithContext(ctx).Clauses(gormcache.Cache()).Where("published = ?", true).Find(&posts).Error)
		n := len(rec.Ended())

		// A write outside a transaction: the invalidation is a span of
		// the same trace as the write's.
		require.NoError(t, db.WithContext(ctx).Model(&blog.Post{}).Where("id = ?", 1).Update("title", "New").Error)
		ss, n2 := spans(rec, n)
		n = n2
		write, inv := only(t, ss, "update posts"), only(t, ss, "gormcache.invalidate")
		require.Equal(t, write.SpanContext().TraceID(), inv.SpanContext().TraceID())
		a := attrs(inv)
		require.Positive(t, a["gormcache.invalidated"].AsInt64(), "stamps renewed")
		require.Equal(t, int64(1), a["gormcache.changes"].AsInt64())
		require.Contains(t, a["gormcache.tables"].AsStringSlice(), "posts")

		// In a transaction, after the commit, under the write's span.
		require.NoError(t, db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&blog.Post{AuthorID: 1, Title: "Two", Published: true}).Error; err != nil {
				return err
			}
			return tx.Model(&blog.Author{}).Where("id = ?", 1).Update("name", "Ada L.").Error
		}))
		ss, _ = spans(rec, n)
		inv = only(t, ss, "gormcache.invalidate")
		create := only(t, ss, "insert posts")
		require.Equal(t, create.SpanContext().SpanID(), inv.Parent().SpanID(), "under the first write's span")
		a = attrs(inv)
		require.Equal(t, int64(2), a["gormcache.changes"].AsInt64(), "one delivery for the transaction")
		require.ElementsMatch(t, []string{"posts", "authors"}, a["gormcache.tables"].AsStringSlice())
	}
}
