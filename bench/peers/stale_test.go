package peers

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/photos"
)

// TestPeerStaleness pins what BENCHMARKS.md says of go-gorm/caches beyond
// the mixed workload, where it is never stale: a write by a raw Exec
// invalidates nothing, and what a transaction read is cached for every
// reader, its own uncommitted writes included, though it then rolls back.
// gormcache returns what the database holds in both cases. Should a new
// version of the peer fail this test, BENCHMARKS.md needs updating.
func TestPeerStaleness(t *testing.T) {
	errRollback := errors.New("roll back")
	writes := []struct {
		name  string
		write func(db *gorm.DB) error
	}{
		{"exec", func(db *gorm.DB) error {
			return db.Exec("UPDATE photos SET title = ? WHERE id = ?", "written", 1).Error
		}},
		{"rolled back", func(db *gorm.DB) error {
			err := db.Transaction(func(tx *gorm.DB) error {
				if err := tx.Model(&photos.Photo{ID: 1}).Update("title", "written").Error; err != nil {
					return err
				}
				var p photos.Photo
				if err := tx.First(&p, 1).Error; err != nil {
					return err
				}
				return errRollback
			})
			if errors.Is(err, errRollback) {
				return nil
			}
			return err
		}},
	}
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				for _, j := range []int{ours, peer} {
					dial := d.Open(t)
					seed(t, openDB(t, dial), 1, 1)
					h := opens[j](t, dial)
					title := func(db *gorm.DB) string {
						var p photos.Photo
						require.NoError(t, db.First(&p, 1).Error)
						return p.Title
					}
					title(h.DB) // cached
					require.NoError(t, w.write(h.DB))
					got, want := title(h.DB), title(openDB(t, dial))
					if j == ours {
						require.Equal(t, want, got, "gormcache")
					} else {
						require.NotEqual(t, want, got, "go-gorm/caches is no longer stale here")
					}
				}
			})
		}
	})
}
