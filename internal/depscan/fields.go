package depscan

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// tracking is what Options.Fields keeps: everything, or terms on the
// listed columns of the model ("" path) and of relations.
type tracking struct {
	all  bool
	keep []kept
}

// kept names the column col of the table a relation path reaches; col ""
// keeps every column of it.
type kept struct{ path, col string }

// keeps reports whether a term on column col of the table reached by path
// is tracked.
func (t *tracking) keeps(path, col string) bool {
	if t.all {
		return true
	}
	for _, k := range t.keep {
		if k.path == path && (k.col == "" || k.col == col) {
			return true
		}
	}
	return false
}

// resolveFields checks names against the model s and returns what they
// track. Without a model names cannot be checked, and nothing needs them:
// no term is proven on a column without a field.
func resolveFields(s *schema.Schema, names []string) (tracking, error) {
	if len(names) == 0 {
		return tracking{all: true}, nil
	}
	if s == nil {
		return tracking{}, nil
	}
	t := tracking{keep: make([]kept, 0, len(names))}
	for _, name := range names {
		k, ok := resolveField(s, name)
		if !ok {
			return tracking{}, fmt.Errorf("%w %q of model %s", deps.ErrUnknownField, name, s.Name)
		}
		t.keep = append(t.keep, k)
	}
	return t, nil
}

// resolveField resolves one name of Options.Fields in the model s: a
// relation path, then a field.
func resolveField(s *schema.Schema, name string) (kept, bool) {
	if _, ok := s.Relationships.Relations[name]; ok {
		return kept{path: name}, true
	}
	if f := s.LookUpField(name); f != nil && f.DBName != "" {
		return kept{col: strings.ToLower(f.DBName)}, true
	}
	segs := strings.Split(name, ".")
	if len(segs) < 2 {
		return kept{}, false
	}
	cur := s
	for i, seg := range segs {
		if r, ok := cur.Relationships.Relations[seg]; ok && r.FieldSchema != nil {
			cur = r.FieldSchema
			continue
		}
		if i == len(segs)-1 && i > 0 {
			if f := cur.LookUpField(seg); f != nil && f.DBName != "" {
				return kept{path: strings.Join(segs[:i], "."), col: strings.ToLower(f.DBName)}, true
			}
		}
		return kept{}, false
	}
	return kept{path: name}, true
}

// joinRel is a table GORM joins for a relation (Joins("User"),
// Joins("Manager.Company")): the alias it gets in the SQL, the relation
// path and the joined model.
type joinRel struct {
	alias  string
	path   string
	schema *schema.Schema
}

// joinRels lists the relation joins of stmt, named as callbacks.BuildQuerySQL
// names them: the relation name, "Parent__Child" when nested, or the
// join's alias for the last relation of the path.
func joinRels(stmt *gorm.Statement, dst []joinRel) []joinRel {
	s := stmt.Schema
	if s == nil {
		return dst
	}
	for _, j := range stmt.Joins {
		names := []string{j.Name}
		if _, ok := s.Relationships.Relations[j.Name]; !ok {
			names = strings.Split(j.Name, ".")
		}
		cur, parent := s, ""
		for i, n := range names {
			r, ok := cur.Relationships.Relations[n]
			if !ok || r.FieldSchema == nil {
				break
			}
			alias := r.Name
			if parent != "" {
				alias = parent + "__" + r.Name
			}
			parent = alias
			if i == len(names)-1 && j.Alias != "" {
				alias = j.Alias
			}
			path := r.Name
			if i > 0 {
				path = strings.Join(names[:i+1], ".")
			}
			dst = append(dst, joinRel{alias: alias, path: path, schema: r.FieldSchema})
			cur = r.FieldSchema
		}
	}
	return dst
}

// sameTable reports whether the model s maps the table named table (as
// normalized by sqlscan).
func sameTable(s *schema.Schema, table string) bool {
	return s != nil && s.Table != "" && sqlscan.ModelTable(s.Table) == table
}

// Field returns the field of the model s whose column a Term's Column (or
// a column name, normalized as Extract normalizes names) names, or nil
// when terms on that column are never produced. The write path must
// encode row images with the field Field returns, as Extract encodes
// query values with it.
//
// A column that is not a field of the model is never tracked: the write
// path could not read it, and its type is unknown. Nor is one of two
// columns whose names differ only in case ("Name" and "name" are distinct
// in PostgreSQL), which a normalized name cannot tell apart, nor one whose
// name holds the comma that separates the columns of a Scheme.
func Field(s *schema.Schema, col string) *schema.Field {
	if s == nil || strings.IndexByte(col, ',') >= 0 {
		return nil
	}
	var found *schema.Field
	for _, name := range s.DBNames {
		if len(name) == len(col) && strings.EqualFold(name, col) {
			if found != nil {
				return nil
			}
			found = s.FieldsByDBName[name]
		}
	}
	return found
}
