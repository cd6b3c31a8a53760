package gormcache_test

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// Money is a custom Scanner/Valuer stored as an integer number of cents.
type Money struct{ Cents int64 }

func (m Money) Value() (driver.Value, error) { return m.Cents, nil }

func (m *Money) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		m.Cents = v
	case []byte:
		_, err := fmt.Sscan(string(v), &m.Cents)
		return err
	case string:
		_, err := fmt.Sscan(v, &m.Cents)
		return err
	case nil:
		m.Cents = 0
	default:
		return fmt.Errorf("money: cannot scan %T", src)
	}
	return nil
}

// Meta is stored as JSON through GORM's serializer.
type Meta struct {
	Tags  []string
	Score float64
}

// Address is embedded with a prefix.
type Address struct {
	Street string
	City   string
}

// Kitchen has a field of every type the equivalence test covers.
type Kitchen struct {
	ID      uint
	I       int
	I8      int8
	I16     int16
	I32     int32
	I64     int64
	U       uint
	U8      uint8
	U16     uint16
	U32     uint32
	U64     uint64
	F32     float32
	F64     float64
	S       string
	B       bool
	Bytes   []byte
	T       time.Time
	TP      *time.Time
	PI      *int
	PS      *string
	NS      sql.NullString
	NI      sql.NullInt64
	NF      sql.NullFloat64
	NB      sql.NullBool
	NT      sql.NullTime
	Price   Money
	Meta    Meta    `gorm:"serializer:json"`
	Addr    Address `gorm:"embedded;embeddedPrefix:addr_"`
	Secret  string  `json:"-"`
	UUID    string  `gorm:"size:36"`
	Decimal string  `gorm:"type:decimal(12,4)"`
	Deleted gorm.DeletedAt
}

func kitchens() []Kitchen {
	seven, name := 7, "named"
	paris := time.FixedZone("CEST", 2*3600)
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		paris = loc
	}
	t0 := time.Date(2024, 3, 31, 1, 30, 0, 123456000, time.UTC)
	t1 := time.Date(1999, 12, 31, 23, 59, 59, 0, paris)
	return []Kitchen{
		{I: -1, I8: -8, I16: -16, I32: -32, I64: -1 << 40, U: 1, U8: 8, U16: 16, U32: 32, U64: 1 << 40,
			F32: 1.5, F64: -2.25, S: "héllo ✓", B: true, Bytes: []byte{0, 1, 0xff}, T: t0, TP: &t1, PI: &seven, PS: &name,
			NS: sql.NullString{String: "x", Valid: true}, NI: sql.NullInt64{Int64: 9, Valid: true},
			NF: sql.NullFloat64{Float64: 0.1, Valid: true}, NB: sql.NullBool{Bool: true, Valid: true},
			NT: sql.NullTime{Time: t1, Valid: true}, Price: Money{Cents: 1999}, Meta: Meta{Tags: []string{"a", "b"}, Score: 0.5},
			Addr: Address{Street: "1 Main", City: "Springfield"}, Secret: "s3cret", UUID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Decimal: "12.3400"},
		{S: "", T: t1, Bytes: []byte{}, Meta: Meta{}, UUID: "00000000-0000-0000-0000-000000000000", Decimal: "0"},
		{S: "deleted", T: t0, Decimal: "1", Deleted: gorm.DeletedAt{Time: t0, Valid: true}},
	}
}

// newKitchenEnv is newEnv with the kitchens created.
func newKitchenEnv(t *testing.T, b backend, cfg gormcache.Config) *env {
	e := newEnv(t, b, cfg)
	seedKitchens(e)
	return e
}

// seedKitchens creates the kitchens in e.
func seedKitchens(e *env) {
	require.NoError(e.t, e.db.AutoMigrate(&Kitchen{}))
	ks := kitchens()
	require.NoError(e.t, e.db.Create(&ks).Error)
}

// outcome is what a read produced: the destination, RowsAffected and error.
type outcome struct {
	Dest         any
	RowsAffected int64
	Err          error
}

// equivalenceRead reads into a fresh destination through db.
type equivalenceRead struct {
	name string
	read func(db *gorm.DB) outcome
}

// equivalenceReads read the kitchens every way GORM reads.
var equivalenceReads = []equivalenceRead{
	{"find slice", func(db *gorm.DB) outcome {
		var ks []Kitchen
		r := db.Order("id").Find(&ks)
		return outcome{ks, r.RowsAffected, r.Error}
	}},
	{"find slice of pointers unscoped", func(db *gorm.DB) outcome {
		var ks []*Kitchen
		r := db.Unscoped().Order("id").Find(&ks)
		return outcome{ks, r.RowsAffected, r.Error}
	}},
	{"first", func(db *gorm.DB) outcome {
		var k Kitchen
		r := db.First(&k)
		return outcome{k, r.RowsAffected, r.Error}
	}},
	{"take by id", func(db *gorm.DB) outcome {
		var k Kitchen
		r := db.Take(&k, 2)
		return outcome{k, r.RowsAffected, r.Error}
	}},
	{"last", func(db *gorm.DB) outcome {
		var k Kitchen
		r := db.Last(&k)
		return outcome{k, r.RowsAffected, r.Error}
	}},
	{"first not found", func(db *gorm.DB) outcome {
		var k Kitchen
		r := db.First(&k, 999)
		return outcome{k, r.RowsAffected, r.Error}
	}},
	{"find empty", func(db *gorm.DB) outcome {
		var ks []Kitchen
		r := db.Where("s = ?", "nobody").Find(&ks)
		return outcome{ks, r.RowsAffected, r.Error}
	}},
	{"count", func(db *gorm.DB) outcome {
		var n int64
		r := db.Model(&Kitchen{}).Count(&n)
		return outcome{n, r.RowsAffected, r.Error}
	}},
	{"pluck", func(db *gorm.DB) outcome {
		var ss []string
		r := db.Model(&Kitchen{}).Order("id").Pluck("s", &ss)
		return outcome{ss, r.RowsAffected, r.Error}
	}},
	{"pluck times", func(db *gorm.DB) outcome {
		var ts []time.Time
		r := db.Model(&Kitchen{}).Order("id").Pluck("t", &ts)
		return outcome{ts, r.RowsAffected, r.Error}
	}},
	{"map", func(db *gorm.DB) outcome {
		m := map[string]any{}
		r := db.Model(&Kitchen{}).Order("id").Take(&m)
		return outcome{m, r.RowsAffected, r.Error}
	}},
	{"slice of maps", func(db *gorm.DB) outcome {
		var ms []map[string]any
		r := db.Table("kitchens").Order("id").Find(&ms)
		return outcome{ms, r.RowsAffected, r.Error}
	}},
	{"raw find", func(db *gorm.DB) outcome {
		var ks []Kitchen
		r := db.Raw("SELECT * FROM kitchens WHERE id > ? ORDER BY id", 0).Find(&ks)
		return outcome{ks, r.RowsAffected, r.Error}
	}},
	{"raw scan struct", func(db *gorm.DB) outcome {
		var k Kitchen
		r := db.Raw("SELECT * FROM kitchens WHERE id = ?", 1).Scan(&k)
		return outcome{k, r.RowsAffected, r.Error}
	}},
	{"raw scan slice of partial structs", func(db *gorm.DB) outcome {
		type partial struct {
			ID    uint
			S     string
			Price Money
			TP    *time.Time
		}
		var ps []partial
		r := db.Raw("SELECT id, s, price, tp FROM kitchens ORDER BY id").Scan(&ps)
		return outcome{ps, r.RowsAffected, r.Error}
	}},
	{"raw scan scalar", func(db *gorm.DB) outcome {
		var f float64
		r := db.Raw("SELECT f64 FROM kitchens WHERE id = 1").Scan(&f)
		return outcome{f, r.RowsAffected, r.Error}
	}},
	{"row", func(db *gorm.DB) outcome {
		var s string
		var b []byte
		err := db.Model(&Kitchen{}).Select("s", "bytes").Where("id = ?", 1).Row().Scan(&s, &b)
		return outcome{[]any{s, b}, 0, err}
	}},
	{"row no rows", func(db *gorm.DB) outcome {
		var s string
		err := db.Model(&Kitchen{}).Select("s").Where("id = ?", 999).Row().Scan(&s)
		return outcome{s, 0, err}
	}},
	{"rows", func(db *gorm.DB) outcome {
		rows, err := db.Model(&Kitchen{}).Select("id", "s", "t").Order("id").Rows()
		if err != nil {
			return outcome{nil, 0, err}
		}
		defer rows.Close()
		var got []Kitchen
		for rows.Next() {
			var k Kitchen
			if err := db.ScanRows(rows, &k); err != nil {
				return outcome{nil, 0, err}
			}
			got = append(got, k)
		}
		return outcome{got, 0, rows.Err()}
	}},
}

// TestEquivalence checks that a hit decodes exactly as the database read:
// the same destination (reflect.DeepEqual), RowsAffected and error; hits
// copying a result kept decoded and hits replaying rows alike.
func TestEquivalence(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		checkEquivalence(t, b, seedKitchens, equivalenceReads)
	})
}

// checkEquivalence runs each of reads on a database of b that seed fills:
// uncached, then as a miss, a hit and a second hit, which must each give
// what the uncached read gives. It does so with the results of hits
// copied from those kept decoded, and replayed.
func checkEquivalence(t *testing.T, b backend, seed func(e *env), reads []equivalenceRead) {
	for _, hits := range []struct {
		name    string
		decoded int64
	}{{"copied", 0}, {"replayed", -1}} {
		t.Run(hits.name, func(t *testing.T) {
			e := newEnv(t, b, gormcache.Config{ResultMemory: hits.decoded})
			seed(e)
			for _, tc := range reads {
				t.Run(tc.name, func(t *testing.T) {
					want := tc.read(e.uncached())
					var miss, hit, again outcome
					e.mustMiss(func() { miss = tc.read(e.cached()) })
					e.mustHit(func() { hit = tc.read(e.cached()) })
					e.mustHit(func() { again = tc.read(e.cached()) })
					for name, got := range map[string]outcome{"miss": miss, "hit": hit, "second hit": again} {
						requireSameOutcome(t, name, got, want)
					}
				})
			}
		})
	}
}

func requireSameOutcome(t *testing.T, name string, got, want outcome) {
	t.Helper()
	if !reflect.DeepEqual(got.Dest, want.Dest) {
		t.Errorf("%s: destination differs from the database read:\ngot  %#v\nwant %#v", name, got.Dest, want.Dest)
	}
	if got.RowsAffected != want.RowsAffected {
		t.Errorf("%s: RowsAffected got %d, want %d", name, got.RowsAffected, want.RowsAffected)
	}
	if !sameError(got.Err, want.Err) {
		t.Errorf("%s: error got %v, want %v", name, got.Err, want.Err)
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	for _, sentinel := range []error{gorm.ErrRecordNotFound, sql.ErrNoRows} {
		if errors.Is(a, sentinel) != errors.Is(b, sentinel) {
			return false
		}
	}
	return strings.EqualFold(a.Error(), b.Error())
}

// hookUser counts AfterFind calls and changes the value it found.
type hookUser struct {
	ID     uint
	Name   string
	Loaded string `gorm:"-"`
}

func (hookUser) TableName() string { return "users" }

func (u *hookUser) AfterFind(*gorm.DB) error {
	u.Loaded = "hooked:" + u.Name
	return nil
}

func TestAfterFindAndPreloadRunOnHits(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, gormcache.Config{})
		e.seed()
		var want []hookUser
		require.NoError(t, e.uncached().Order("id").Find(&want).Error)
		require.Equal(t, "hooked:ada", want[0].Loaded)
		e.mustMiss(func() {
			var got []hookUser
			require.NoError(t, e.cached().Order("id").Find(&got).Error)
		})
		e.mustHit(func() {
			var got []hookUser
			require.NoError(t, e.cached().Order("id").Find(&got).Error)
			require.Equal(t, want, got)
		})

		// Preloads of a cached query are cached statements themselves.
		var u User
		e.mustMiss(func() {
			require.NoError(t, e.cached().Preload("Photos").Preload("Tags").Preload("Profile").First(&u, 1).Error)
		})
		var again User
		before := e.stats()
		require.NoError(t, e.cached().Preload("Photos").Preload("Tags").Preload("Profile").First(&again, 1).Error)
		// The user, its photos, the join table, its tags and its profile.
		if hits := e.stats().Hits - before.Hits; hits != 5 {
			t.Fatalf("preloaded read: got %d hits, want 5", hits)
		}
		require.Equal(t, u, again)
		require.Len(t, again.Photos, 3)
		require.Len(t, again.Tags, 2)
		require.NotNil(t, again.Profile)
	})
}
