package invalidation

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// Image is one row as a write saw it: column name (lowercase) -> the value
// of the model field, as Go typed it.
type Image map[string]any

// InternalKey marks the statements the write path runs itself (reading row
// images), so that the read path leaves them alone.
const InternalKey = "gormcache:internal"

// ValueImages returns the images of the model values in rv (a struct, a
// pointer to one, or a slice or array of them).
func ValueImages(ctx context.Context, s *schema.Schema, rv reflect.Value) []Image {
	rv = reflect.Indirect(rv)
	switch rv.Kind() {
	case reflect.Struct:
		return []Image{image(ctx, s, rv)}
	case reflect.Slice, reflect.Array:
		images := make([]Image, 0, rv.Len())
		for i := range rv.Len() {
			if elem := reflect.Indirect(rv.Index(i)); elem.Kind() == reflect.Struct {
				images = append(images, image(ctx, s, elem))
			}
		}
		return images
	}
	return nil
}

func image(ctx context.Context, s *schema.Schema, rv reflect.Value) Image {
	img := make(Image, len(s.DBNames))
	for _, name := range s.DBNames {
		f := s.FieldsByDBName[name]
		v, _ := f.ValueOf(ctx, rv)
		img[strings.ToLower(name)] = v
	}
	return img
}

// ErrTooManyRows is returned by ReadImages when more rows match than its
// limit.
var ErrTooManyRows = errors.New("gormcache: too many rows to image")

// ReadImages reads, through pool (the write's transaction), the rows of
// s's table that where selects, locking them for update where the dialect
// can. It fails with ErrTooManyRows when more than limit rows match, and
// with the database's error when the read fails: the caller then
// invalidates the whole table. Every column is read (SELECT *), whatever
// the model declares, so that a model field the table lacks cannot fail it.
func ReadImages(db *gorm.DB, pool gorm.ConnPool, s *schema.Schema, where clause.Where, lock bool, limit int) ([]Image, error) {
	tx := db.Session(&gorm.Session{NewDB: true, SkipHooks: true, Context: db.Statement.Context}).Set(InternalKey, true)
	tx.Statement.ConnPool = pool
	tx.Statement.Unscoped = true // where already holds the write's scopes
	tx.Statement.AddClause(where)
	if lock {
		tx.Statement.AddClause(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	rows := reflect.New(reflect.SliceOf(s.ModelType))
	if err := tx.Table(s.Table).Select("*").Limit(limit + 1).Find(rows.Interface()).Error; err != nil {
		return nil, err
	}
	if rows.Elem().Len() > limit {
		return nil, ErrTooManyRows
	}
	return ValueImages(db.Statement.Context, s, rows), nil
}

// PrimaryKeyWhere returns the condition selecting the rows of images by
// primary key, and false when s has no primary key or an image lacks it.
func PrimaryKeyWhere(s *schema.Schema, images []Image) (clause.Where, bool) {
	if len(s.PrimaryFields) == 0 || len(images) == 0 {
		return clause.Where{}, false
	}
	ors := make([]clause.Expression, 0, len(images))
	for _, img := range images {
		ands := make([]clause.Expression, 0, len(s.PrimaryFields))
		for _, f := range s.PrimaryFields {
			v, ok := img[strings.ToLower(f.DBName)]
			if !ok || v == nil {
				return clause.Where{}, false
			}
			ands = append(ands, clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: f.DBName}, Value: v})
		}
		ors = append(ors, clause.And(ands...))
	}
	return clause.Where{Exprs: []clause.Expression{clause.Or(ors...)}}, true
}
