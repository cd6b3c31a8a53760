package gormcache_test

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// The tests of this file filter and write JSON columns with each engine's
// own JSON functions and operators, as applications and gorm.io/datatypes
// write them: paths extracted in WHERE, PostgreSQL's ->>, @> and ? (an
// operator there, a placeholder to GORM), keys set and removed in place.

// jsonDoc is a JSON document stored in the engine's JSON type.
type jsonDoc string

func (d jsonDoc) Value() (driver.Value, error) { return string(d), nil }

func (d *jsonDoc) Scan(v any) error {
	switch v := v.(type) {
	case string:
		*d = jsonDoc(v)
	case []byte:
		*d = jsonDoc(v)
	default:
		return errors.New("jsonDoc: not a string")
	}
	return nil
}

// GormDBDataType gives the column its engine's JSON type.
func (jsonDoc) GormDBDataType(db *gorm.DB, _ *schema.Field) string {
	switch db.Dialector.Name() {
	case "postgres":
		return "jsonb"
	case "mysql":
		return "json"
	}
	return "text"
}

// Gadget has a JSON document of attributes.
type Gadget struct {
	ID      uint
	OwnerID uint
	Attrs   jsonDoc
}

// attrs returns the engine's SQL for the text of the attribute key.
func attrs(db *gorm.DB, key string) string {
	switch db.Dialector.Name() {
	case "postgres":
		return "attrs ->> '" + key + "'"
	case "sqlite":
		return "JSON_EXTRACT(attrs, '$." + key + "')"
	}
	return "JSON_UNQUOTE(JSON_EXTRACT(attrs, '$." + key + "'))"
}

// hasKey returns the engine's SQL for whether the attributes have key.
func hasKey(db *gorm.DB, key string) string {
	if db.Dialector.Name() == "postgres" {
		return "attrs ? '" + key + "'"
	}
	return "JSON_EXTRACT(attrs, '$." + key + "') IS NOT NULL"
}

func newJSONEnv(t *testing.T, b backend) *env {
	e := newEnv(t, b, gormcache.Config{})
	require.NoError(t, e.db.AutoMigrate(&Gadget{}))
	db := e.db.Clauses(gormcache.NoCache()).Session(&gorm.Session{})
	require.NoError(t, db.Create(&[]Gadget{
		{OwnerID: 1, Attrs: `{"color": "red", "size": 3}`},
		{OwnerID: 1, Attrs: `{"color": "green"}`},
		{OwnerID: 2, Attrs: `{"color": "red", "tags": ["new"]}`},
	}).Error)
	return e
}

func gadgetIDs(t testing.TB, q *gorm.DB) []uint {
	var ids []uint
	require.NoError(t, q.Model(&Gadget{}).Order("id").Pluck("id", &ids).Error)
	return ids
}

var jsonReads = freshness.Reads{
	"red gadgets": func(t testing.TB, db *gorm.DB) any {
		return gadgetIDs(t, db.Where(attrs(db, "color")+" = ?", "red"))
	},
	"owner 1's red gadgets": func(t testing.TB, db *gorm.DB) any {
		return gadgetIDs(t, db.Where("owner_id = ?", 1).Where(attrs(db, "color")+" = ?", "red"))
	},
	"owner 2's gadgets": func(t testing.TB, db *gorm.DB) any {
		return gadgetIDs(t, db.Where("owner_id = ?", 2))
	},
	"gadgets with a size": func(t testing.TB, db *gorm.DB) any {
		return gadgetIDs(t, db.Where(hasKey(db, "size")))
	},
	"owner 1's gadgets with a size": func(t testing.TB, db *gorm.DB) any {
		return gadgetIDs(t, db.Where(hasKey(db, "size")).Where("owner_id = ?", 1))
	},
	"the colors": func(t testing.TB, db *gorm.DB) any {
		var colors []string
		require.NoError(t, db.Model(&Gadget{}).Order("id").Pluck(attrs(db, "color"), &colors).Error)
		return colors
	},
	"gadget 1": func(t testing.TB, db *gorm.DB) any {
		var g Gadget
		require.NoError(t, db.First(&g, 1).Error)
		var doc map[string]any // the engines format documents differently
		require.NoError(t, json.Unmarshal([]byte(g.Attrs), &doc))
		return []any{g.ID, g.OwnerID, doc}
	},
	"tagged gadgets": func(t testing.TB, db *gorm.DB) any {
		if db.Dialector.Name() == "postgres" {
			return gadgetIDs(t, db.Where("attrs @> ?", `{"tags": ["new"]}`))
		}
		return gadgetIDs(t, db.Where("JSON_EXTRACT(attrs, '$.tags[0]') = ?", "new"))
	},
}

var jsonWrites = freshness.Writes{
	"replace a document": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Gadget{ID: 2}).Update("attrs", jsonDoc(`{"color": "red", "size": 1}`)).Error)
	},
	"set a key in place": func(t testing.TB, db *gorm.DB) {
		set := gorm.Expr("JSON_SET(attrs, '$.color', ?)", "blue")
		if db.Dialector.Name() == "postgres" {
			set = gorm.Expr("jsonb_set(attrs, '{color}', to_jsonb(?::text))", "blue")
		}
		require.NoError(t, db.Model(&Gadget{}).Where("id = ?", 1).Update("attrs", set).Error)
	},
	"remove a key in place": func(t testing.TB, db *gorm.DB) {
		remove := gorm.Expr("JSON_REMOVE(attrs, '$.size')")
		if db.Dialector.Name() == "postgres" {
			remove = gorm.Expr("attrs - 'size'")
		}
		require.NoError(t, db.Model(&Gadget{}).Where("owner_id = ?", 1).Update("attrs", remove).Error)
	},
	"set by a JSON condition": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Gadget{}).Where(attrs(db, "color")+" = ?", "green").Update("owner_id", 2).Error)
	},
	"raw update by key": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Exec("UPDATE gadgets SET owner_id = 3 WHERE "+hasKey(db, "size")).Error)
	},
	"create a gadget": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Create(&Gadget{OwnerID: 1, Attrs: `{"color": "red", "size": 9, "tags": ["new"]}`}).Error)
	},
	"delete by a JSON condition": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Where(hasKey(db, "tags")).Delete(&Gadget{}).Error)
	},
}

// TestJSONFreshness checks every JSON read against every JSON write, as
// TestFreshness does.
func TestJSONFreshness(t *testing.T) {
	checkFreshness(t, newJSONEnv, jsonReads, jsonWrites)
}
