package gormcache_test

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// TestHitsAreCopies changes everything a hit returned, through every
// pointer, slice and map, and checks that the next hit is untouched.
func TestHitsAreCopies(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newKitchenEnv(t, b, gormcache.Config{})
		spoil := func(k *Kitchen) {
			k.S = "spoiled"
			if len(k.Bytes) > 0 {
				k.Bytes[0] = 42
			}
			if k.PI != nil {
				*k.PI = -99
			}
			if k.PS != nil {
				*k.PS = "spoiled"
			}
			if k.TP != nil {
				*k.TP = time.Time{}
			}
			if len(k.Meta.Tags) > 0 {
				k.Meta.Tags[0] = "spoiled"
			}
		}
		reads := []struct {
			name  string
			read  func(db *gorm.DB) outcome
			spoil func(dest any)
		}{
			{"slice", func(db *gorm.DB) outcome {
				var got []Kitchen
				r := db.Order("id").Find(&got)
				return outcome{got, r.RowsAffected, r.Error}
			}, func(dest any) {
				for i := range dest.([]Kitchen) {
					spoil(&dest.([]Kitchen)[i])
				}
			}},
			{"pointers", func(db *gorm.DB) outcome {
				var got []*Kitchen
				r := db.Order("id").Find(&got)
				return outcome{got, r.RowsAffected, r.Error}
			}, func(dest any) {
				for _, k := range dest.([]*Kitchen) {
					spoil(k)
				}
			}},
			{"struct", func(db *gorm.DB) outcome {
				var got Kitchen
				r := db.First(&got, 1)
				return outcome{got, r.RowsAffected, r.Error}
			}, func(dest any) {
				k := dest.(Kitchen)
				spoil(&k)
			}},
		}
		for _, tc := range reads {
			t.Run(tc.name, func(t *testing.T) {
				want := tc.read(e.uncached())
				e.mustMiss(func() { tc.spoil(tc.read(e.cached()).Dest) })
				for i := range 3 {
					var got outcome
					e.mustHit(func() { got = tc.read(e.cached()) })
					requireSameOutcome(t, "hit", got, want)
					if t.Failed() {
						t.Fatalf("hit %d returned what an earlier caller changed", i+1)
					}
					tc.spoil(got.Dest)
				}
			})
		}
	})
}

// Labels is a Scanner that merges what it scans into the map it has, as
// json.Unmarshal into a non-nil map does: what a read leaves depends on the
// destination's value before it.
type Labels map[string]string

func (l Labels) Value() (driver.Value, error) {
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		pairs = append(pairs, k+"="+l[k])
	}
	return strings.Join(pairs, ","), nil
}

func (l *Labels) Scan(src any) error {
	s, ok := src.(string)
	if b, isBytes := src.([]byte); isBytes {
		s, ok = string(b), true
	}
	if !ok {
		return fmt.Errorf("labels: cannot scan %T", src)
	}
	if *l == nil {
		*l = Labels{}
	}
	for pair := range strings.SplitSeq(s, ",") {
		if k, v, found := strings.Cut(pair, "="); found {
			(*l)[k] = v
		}
	}
	return nil
}

type Labelled struct {
	ID     uint
	Labels Labels
}

// TestHitsIntoUsedDestinations reads into destinations that already hold
// values: a hit must leave in them exactly what a database read leaves.
func TestHitsIntoUsedDestinations(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newKitchenEnv(t, b, gormcache.Config{})
		e.seed()
		require.NoError(t, e.db.AutoMigrate(&Labelled{}))
		require.NoError(t, e.db.Create(&Labelled{Labels: Labels{"a": "1"}}).Error)
		reads := []struct {
			name string
			read func(db *gorm.DB) outcome
		}{
			{"unselected fields kept", func(db *gorm.DB) outcome {
				u := User{Name: "before", Photos: []Photo{{Title: "kept"}}}
				r := db.Select("id", "email").First(&u, 1)
				return outcome{u, r.RowsAffected, r.Error}
			}},
			{"pointer field set before", func(db *gorm.DB) outcome {
				before := 5
				k := Kitchen{PI: &before}
				r := db.First(&k, 1)
				return outcome{[]any{k, before}, r.RowsAffected, r.Error}
			}},
			{"scanner field set before", func(db *gorm.DB) outcome {
				k := Kitchen{Price: Money{Cents: 1}, Meta: Meta{Tags: []string{"old"}}}
				r := db.First(&k, 2)
				return outcome{k, r.RowsAffected, r.Error}
			}},
			{"merging scanner set before", func(db *gorm.DB) outcome {
				l := Labelled{Labels: Labels{"old": "kept"}}
				r := db.First(&l)
				return outcome{l, r.RowsAffected, r.Error}
			}},
			{"slice with capacity", func(db *gorm.DB) outcome {
				ps := make([]Photo, 1, 50)
				ps[0].Title = "overwritten"
				r := db.Order("id").Find(&ps)
				return outcome{[]any{ps, ps[:1:1]}, r.RowsAffected, r.Error}
			}},
			{"slice with too little capacity", func(db *gorm.DB) outcome {
				ps := make([]Photo, 1, 2)
				ps[0].Title = "overwritten"
				before := ps[:2]
				r := db.Where("status > ?", -1).Order("id").Find(&ps)
				return outcome{[]any{ps, before}, r.RowsAffected, r.Error}
			}},
			{"pointers with too little capacity", func(db *gorm.DB) outcome {
				ps := make([]*Photo, 1, 2)
				ps[0] = &Photo{Title: "kept"}
				before := ps[:2]
				r := db.Where("status > ?", -2).Order("id").Find(&ps)
				return outcome{[]any{ps, before}, r.RowsAffected, r.Error}
			}},
			{"not found keeps the struct", func(db *gorm.DB) outcome {
				u := User{ID: 77, Name: "kept"}
				r := db.Where("name = ?", "nobody").First(&u)
				return outcome{u, r.RowsAffected, r.Error}
			}},
			{"empty result into nil slice", func(db *gorm.DB) outcome {
				var ps []Photo
				r := db.Where("title = ?", "none").Find(&ps)
				return outcome{[]any{ps, ps == nil}, r.RowsAffected, r.Error}
			}},
			{"empty result into nil maps", func(db *gorm.DB) outcome {
				var rows []map[string]any
				r := db.Model(&Photo{}).Where("title = ?", "none").Find(&rows)
				return outcome{[]any{rows, rows == nil}, r.RowsAffected, r.Error}
			}},
			{"maps appended to", func(db *gorm.DB) outcome {
				rows := []map[string]any{{"kept": "yes"}}
				r := db.Model(&Photo{}).Select("id", "title").Where("user_id = ?", 1).Order("id").Find(&rows)
				return outcome{rows, r.RowsAffected, r.Error}
			}},
			{"count", func(db *gorm.DB) outcome {
				n := int64(99)
				r := db.Model(&Photo{}).Where("status = ?", 2).Count(&n)
				return outcome{n, r.RowsAffected, r.Error}
			}},
		}
		for _, tc := range reads {
			t.Run(tc.name, func(t *testing.T) {
				want := tc.read(e.uncached())
				var miss outcome
				e.mustMiss(func() { miss = tc.read(e.cached()) })
				requireSameOutcome(t, "miss", miss, want)
				for range 2 {
					var hit outcome
					e.mustHit(func() { hit = tc.read(e.cached()) })
					requireSameOutcome(t, "hit", hit, want)
				}
			})
		}
	})
}

// TestHitsAppendToMaps: gorm.Scan appends the rows of a Find into a
// []map[string]any to what the slice holds; a hit does the same, whatever
// the slice of the hit that kept the result held.
func TestHitsAppendToMaps(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		read := func(db *gorm.DB, held ...map[string]any) []map[string]any {
			rows := slices.Clone(held)
			require.NoError(t, db.Model(&Photo{}).Select("id", "title").Where("user_id = ?", 1).Order("id").Find(&rows).Error)
			return rows
		}
		want := read(e.uncached(), map[string]any{"held": 1}, map[string]any{"held": 2})
		require.Len(t, want, 5, "the two held and ada's three photos")
		e.mustMiss(func() { read(e.cached()) })
		e.mustHit(func() { read(e.cached(), map[string]any{"other": 0}) }) // kept by this hit
		e.mustHit(func() {
			require.Equal(t, want, read(e.cached(), map[string]any{"held": 1}, map[string]any{"held": 2}))
		})
	})
}

// TestHitsKeepTheirModel reads the same SQL into maps under a model and
// without one: gorm.Scan takes the types of the values from the model's
// fields when there is one, so a result decoded under one must not answer
// the other.
func TestHitsKeepTheirModel(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{CacheAll: true})
		e.seed()
		types := func(rows []map[string]any) string {
			return fmt.Sprintf("%T %T", rows[0]["id"], rows[0]["name"])
		}
		for range 3 { // a miss, a hit that keeps its decoded result, a hit that uses it
			var rows []map[string]any
			require.NoError(t, e.db.Model(&User{}).Order("id").Find(&rows).Error)
		}
		var want, got []map[string]any
		require.NoError(t, e.uncached().Table("users").Order("id").Find(&want).Error)
		require.NoError(t, e.db.Table("users").Order("id").Find(&got).Error)
		require.Equal(t, types(want), types(got))
		require.Equal(t, want, got)
	})
}

// Nullable has fields of every kind gorm.Scan sets otherwise for a NULL:
// a *string becomes nil, while an int, a *time.Time and a Scanner keep
// what they held.
type Nullable struct {
	ID     uint
	Born   *time.Time
	Nick   *string
	Age    int
	Score  sql.NullInt64
	Labels Labels
	Note   string
}

// TestHitsOfNullColumns reads a row of NULLs into a struct that holds
// values and into an empty one, in both orders: whichever destination the
// result was kept from, each hit leaves what a database read leaves in its
// own destination, and nothing of another caller's.
func TestHitsOfNullColumns(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		require.NoError(t, e.db.AutoMigrate(&Nullable{}))
		require.NoError(t, e.db.Exec("INSERT INTO nullables (id) VALUES (1), (2)").Error)
		empty := func(db *gorm.DB, id int) outcome {
			var n Nullable
			r := db.Where("id = ?", id).Find(&n)
			return outcome{n, r.RowsAffected, r.Error}
		}
		filled := func(db *gorm.DB, id int) outcome {
			born, nick := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), "nick"
			n := Nullable{Born: &born, Nick: &nick, Age: 7, Score: sql.NullInt64{Int64: 3, Valid: true},
				Labels: Labels{"pre": "set"}, Note: "note"}
			r := db.Where("id = ?", id).Find(&n)
			return outcome{n, r.RowsAffected, r.Error}
		}
		for id, order := range map[int][]func(*gorm.DB, int) outcome{
			1: {empty, filled, empty, filled},
			2: {filled, empty, filled, empty},
		} {
			for i, read := range order {
				want := read(e.uncached(), id)
				var got outcome
				if i == 0 {
					e.mustMiss(func() { got = read(e.cached(), id) })
				} else {
					e.mustHit(func() { got = read(e.cached(), id) })
				}
				requireSameOutcome(t, fmt.Sprintf("row %d, read %d", id, i), got, want)
			}
		}
	})
}
