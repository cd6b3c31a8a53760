package main

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gorm.io/datatypes"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
	"github.com/gormcache/gormcache/internal/testdb"
)

func TestRun(t *testing.T) {
	require.NoError(t, run(t.Context()))
}

// spec is the document of a datatypes.JSONType column.
type spec struct {
	CPU   string
	Cores int
}

// gadget has a column of each of gorm.io/datatypes' types.
type gadget struct {
	ID     uint
	Serial datatypes.UUID
	Token  datatypes.BinUUID
	Owner  datatypes.NullString
	Attrs  datatypes.JSONMap
	Spec   datatypes.JSONType[spec]
	Tags   datatypes.JSONSlice[string]
	Raw    datatypes.JSON
	Bought datatypes.Date
	Opens  datatypes.Time
	Home   datatypes.URL
}

var (
	serials = []datatypes.UUID{
		datatypes.UUID(uuid.MustParse("11111111-1111-4111-8111-111111111111")),
		datatypes.UUID(uuid.MustParse("22222222-2222-4222-8222-222222222222")),
		datatypes.UUID(uuid.MustParse("33333333-3333-4333-8333-333333333333")),
	}
	tokens = []datatypes.BinUUID{
		datatypes.BinUUID(uuid.MustParse("aaaaaaaa-1111-4111-8111-111111111111")),
		datatypes.BinUUID(uuid.MustParse("bbbbbbbb-2222-4222-8222-222222222222")),
		datatypes.BinUUID(uuid.MustParse("cccccccc-3333-4333-8333-333333333333")),
	}
	bought = datatypes.Date(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
)

// newGadget returns gadget id (1 to 3) with the serial and token of another
// index, so that writes can move them between rows.
func newGadget(id uint, other int, owner, role string, cores int, tags ...string) gadget {
	return gadget{ID: id, Serial: serials[other], Token: tokens[other], Owner: datatypes.NewNull(owner),
		Attrs:  datatypes.JSONMap{"role": role, "rack": float64(id)},
		Spec:   datatypes.NewJSONType(spec{CPU: "x86", Cores: cores}),
		Tags:   datatypes.NewJSONSlice(tags),
		Raw:    datatypes.JSON(`{"a":1}`),
		Bought: bought, Opens: datatypes.NewTime(9, 30, 0, 0),
		Home: datatypes.URL(url.URL{Scheme: "https", Host: "example.com", Path: "/" + owner})}
}

// newSeeded opens a database of d's engine with the plugin and three
// gadgets: two of ada's, one of grace's.
func newSeeded(t *testing.T, d testdb.Dialector) (*gorm.DB, *gormcache.Plugin) {
	db, p := freshness.Open(t, d.Open(t))
	require.NoError(t, db.AutoMigrate(&gadget{}))
	require.NoError(t, db.Clauses(gormcache.NoCache()).Create([]gadget{
		newGadget(1, 0, "ada", "web", 4, "eu", "prod"),
		newGadget(2, 1, "ada", "db", 8, "us"),
		newGadget(3, 2, "grace", "web", 2, "eu"),
	}).Error)
	return db, p
}

func findGadgets(t testing.TB, q *gorm.DB) any {
	var got []gadget
	require.NoError(t, q.Order("id").Find(&got).Error)
	return got
}

// reads filter on datatypes values (as vars, through their Value methods)
// and with datatypes' JSON query expressions, which build SQL of each
// engine's own.
var reads = freshness.Reads{
	"by serial": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where("serial = ?", serials[1]))
	},
	"by serial, from a struct": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where(&gadget{Serial: serials[0]}))
	},
	"by binary token": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where("token = ?", tokens[2]))
	},
	"by nullable owner": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where("owner = ?", datatypes.NewNull("ada")))
	},
	"web role (JSONQuery Equals)": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where(datatypes.JSONQuery("attrs").Equals("web", "role")))
	},
	"has a rack (JSONQuery HasKey)": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where(datatypes.JSONQuery("attrs").HasKey("rack")))
	},
	"tagged eu (JSONArrayQuery Contains)": func(t testing.TB, db *gorm.DB) any {
		if db.Dialector.Name() == "postgres" {
			// datatypes has no JSONArrayQuery for PostgreSQL.
			return findGadgets(t, db.Where("tags::jsonb @> ?", `["eu"]`))
		}
		return findGadgets(t, db.Where(datatypes.JSONArrayQuery("tags").Contains("eu")))
	},
	"8 cores (JSONQuery on a JSONType)": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where(datatypes.JSONQuery("spec").Equals(8, "Cores")))
	},
	"attributes, plucked": func(t testing.TB, db *gorm.DB) any {
		var got []datatypes.JSONMap
		require.NoError(t, db.Model(&gadget{}).Order("id").Pluck("attrs", &got).Error)
		return got
	},
	"by date": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Where("bought = ?", bought))
	},
	"gadget 2 by id": func(t testing.TB, db *gorm.DB) any {
		return findGadgets(t, db.Limit(1).Where("id = ?", 2))
	},
}

// writes move datatypes values between rows and rewrite JSON documents,
// whole and in place (datatypes.JSONSet).
var writes = freshness.Writes{
	"update the owner by serial": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{}).Where("serial = ?", serials[1]).Update("owner", datatypes.NewNull("grace")).Error)
	},
	"update a serial": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 3}).Update("serial", serials[1]).Error)
	},
	"update a binary token": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 1}).Update("token", tokens[2]).Error)
	},
	"set the owner to NULL": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 1}).Update("owner", datatypes.NullString{}).Error)
	},
	"save a loaded row": func(t testing.TB, db *gorm.DB) {
		var g gadget
		require.NoError(t, db.Clauses(gormcache.NoCache()).First(&g, 3).Error)
		g.Serial, g.Token, g.Owner = serials[0], tokens[0], datatypes.NewNull("ada")
		g.Attrs["role"] = "db"
		require.NoError(t, db.Save(&g).Error)
	},
	"create": func(t testing.TB, db *gorm.DB) {
		g := newGadget(4, 1, "ada", "web", 1)
		g.Token = tokens[2]
		require.NoError(t, db.Create(&g).Error)
	},
	"delete by binary token": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Where("token = ?", tokens[1]).Delete(&gadget{}).Error)
	},
	"upsert": func(t testing.TB, db *gorm.DB) {
		g := newGadget(2, 2, "grace", "web", 16)
		g.Token = tokens[0]
		require.NoError(t, db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&g).Error)
	},
	"replace a JSON document": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 2}).Update("attrs", datatypes.JSONMap{"role": "web"}).Error)
	},
	"set a JSON key in place (JSONSet)": func(t testing.TB, db *gorm.DB) {
		path := "role"
		if db.Dialector.Name() == "postgres" {
			path = "{role}"
		}
		require.NoError(t, db.Model(&gadget{ID: 3}).UpdateColumn("attrs", datatypes.JSONSet("attrs").Set(path, "db")).Error)
	},
	"replace a JSONType": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 1}).Update("spec", datatypes.NewJSONType(spec{CPU: "arm", Cores: 8})).Error)
	},
	"replace a JSONSlice": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&gadget{ID: 2}).Updates(gadget{Tags: datatypes.NewJSONSlice([]string{"eu"})}).Error)
	},
}

// TestFreshness runs the freshness matrix with gorm.io/datatypes columns,
// vars and expressions, on every engine.
func TestFreshness(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		freshness.Check(t, func(t *testing.T) (*gorm.DB, *gormcache.Plugin) { return newSeeded(t, d) }, reads, writes)
	})
}
