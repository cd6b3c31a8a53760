package gormcache

// Dependency sets: what a read depends on (readSet, queryDeps), and what a
// row-level write renews (rowDeps), in the terms of package deps.

import (
	"errors"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/collation"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/store"
)

// anyRow is the Cond of the dependency on any row of a table: every
// row-level write to the table renews it. Dep{Table: t} (Cond "") is the
// whole-table dependency that only coarse invalidation renews.
const anyRow = "*"

// readSet gathers what a read depends on — for each table it reads, the
// table as a whole and either the conjunctions its rows must satisfy or any
// row — and the schemes to register before the read.
type readSet struct {
	deps    []store.Dep
	schemes []tableSchemesOf
}

// tableSchemesOf is the schemes a read registers for a (namespaced) table.
type tableSchemesOf struct {
	table   string
	schemes []string
}

// add records a read of table (namespaced) that only rows matching one of
// conjs can change; no conjunction, or an empty one, means any row.
func (r *readSet) add(table string, conjs []deps.Conj) {
	r.deps = append(r.deps, store.Dep{Table: table})
	if len(conjs) == 0 || slices.ContainsFunc(conjs, func(c deps.Conj) bool { return len(c) == 0 }) {
		r.deps = append(r.deps, store.Dep{Table: table, Cond: anyRow})
		return
	}
	i := slices.IndexFunc(r.schemes, func(t tableSchemesOf) bool { return t.table == table })
	if i < 0 {
		r.schemes = append(r.schemes, tableSchemesOf{table: table})
		i = len(r.schemes) - 1
	}
	ts := &r.schemes[i]
	for _, c := range conjs {
		r.deps = append(r.deps, store.Dep{Table: table, Cond: c.Key()})
		if sc := c.Scheme(); !slices.Contains(ts.schemes, sc) {
			ts.schemes = append(ts.schemes, sc)
		}
	}
}

// rowDeps returns the dependencies a row-level write to table renews: any
// row of the table, and for each image and each scheme registered for the
// table, the conjunction the image belongs to; rows counts the latter. An
// image that cannot be placed in a scheme, or schemes the store could not
// tell, make it a whole-table invalidation: rows is then -1. columns
// tells how the database compares the table's columns (nil on dialects
// whose columns need no catalogue).
func (p *Plugin) rowDeps(table string, s *schema.Schema, images []rowimage.Image, schemes tableSchemes,
	columns func(modelTable, column string) collation.Column) (renewed []store.Dep, rows int) {
	t := p.cfg.Prefix + table
	if !schemes.known {
		return []store.Dep{{Table: t}}, -1
	}
	renewed = make([]store.Dep, 1, 1+len(schemes.list)*len(images))
	renewed[0] = store.Dep{Table: t, Cond: anyRow}
	var conj deps.Conj
	for _, scheme := range schemes.list {
		cols := schemeColumns(s, scheme, columns)
		for _, img := range images {
			var member, ok bool
			if conj, member, ok = imageConj(cols, img, conj[:0]); !ok {
				return []store.Dep{{Table: t}}, -1
			}
			if member {
				renewed = append(renewed, store.Dep{Table: t, Cond: conj.Key()})
			}
		}
	}
	renewed = dedupe(renewed)
	return renewed, len(renewed) - 1
}

// schemeColumn is a column of a scheme, with what placing an image in the
// scheme needs of it: its field in the model (nil: none) and how the
// database compares it (see comparison). They are looked up once per
// scheme, however many images a write has.
type schemeColumn struct {
	name     string
	field    *schema.Field
	cmp      collation.Column
	compared bool // cmp is known; else depscan.Canon's comparison
}

// comparison returns what depscan.CanonFor takes of how col compares.
func (col *schemeColumn) comparison() *collation.Column {
	if !col.compared {
		return nil
	}
	return &col.cmp
}

// schemeColumns returns the columns of scheme (comma-separated names) in
// one allocation: a write renews each of its schemes.
func schemeColumns(s *schema.Schema, scheme string, columns func(modelTable, column string) collation.Column) []schemeColumn {
	cols := make([]schemeColumn, 0, strings.Count(scheme, ",")+1)
	for rest, more := scheme, true; more; {
		var name string
		name, rest, more = strings.Cut(rest, ",")
		col := schemeColumn{name: name, field: depscan.Field(s, name)}
		col.cmp, col.compared = comparison(columns, s, col.field)
		cols = append(cols, col)
	}
	return cols
}

// imageConj appends to conj the terms of the conjunction of the scheme of
// cols that img belongs to. member is false when img belongs to none: its
// value for a column on which only IS NULL can be tracked (a time, a float)
// is not NULL. ok is false when img cannot be placed: the caller
// invalidates the whole table.
func imageConj(cols []schemeColumn, img rowimage.Image, conj deps.Conj) (_ deps.Conj, member, ok bool) {
	for i := range cols {
		col := &cols[i]
		v, present := img[col.name]
		if !present {
			return conj, false, false
		}
		value, ok := depscan.CanonFor(v, col.field, col.comparison())
		if !ok {
			return conj, false, col.field != nil && !depscan.EquatableFor(col.field, col.comparison())
		}
		conj = append(conj, deps.Term{Column: col.name, Value: value})
	}
	return conj, true, true
}

// errSequence is queryDeps' error for a statement that reads a sequence
// (the catalogue tells): its result changes with every value the sequence
// hands out, which no write tells, so it is not cached.
var errSequence = errors.New("gormcache: the statement reads a sequence")

// queryDeps returns what a built statement depends on: everything (the
// global dependency), each table it reads as a whole, and the rows of each
// table it reads: the conjunctions depscan.Extract proves, or any row. With a
// store that has no scheme registry, or a model whose policy asks for
// table-level precision, reads depend on any row of their tables. schemes
// are the schemes to register per (namespaced) table before the read. It
// fails with errSequence for a statement that reads a sequence.
func (p *Plugin) queryDeps(db *gorm.DB, rd *read) ([]store.Dep, []tableSchemesOf, error) {
	stmt, analysis := db.Statement, rd.analysis
	columns, catalogue := p.columnsAt(stmt.Context, db, rd.source, rd.db, analysis.Reads)
	if catalogue != nil && slices.ContainsFunc(analysis.Reads, catalogue.catalog.Sequence) {
		return nil, nil, errSequence
	}
	// The global dependency, then two per table, often three.
	r := readSet{deps: make([]store.Dep, 1, 1+3*len(analysis.Reads))}
	r.deps[0] = p.global
	if _, ok := p.store.(store.SchemeRegistry); !ok || p.precision(rd.pol) == TableLevel {
		for _, t := range analysis.Reads {
			r.add(p.cfg.Prefix+t, nil)
		}
		return r.deps, nil, nil
	}
	opts := depscan.Options{Columns: columns}
	if o := rd.opts; o != nil && o.owner == stmt {
		opts.Fields = o.fields
	}
	if catalogue != nil {
		opts.Generation = catalogue.generation
	}
	tables, err := p.extractor.Extract(stmt, analysis, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tables {
		r.add(p.cfg.Prefix+t.Name, t.Conjs)
	}
	return r.deps, r.schemes, nil
}
