package gormcache

// Dependency sets: what a read depends on (readSet, queryDeps), and what a
// row-level write renews (rowDeps), in the terms of package deps.

import (
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
// tells how the database compares the table's columns (MySQL; nil
// elsewhere).
func (p *Plugin) rowDeps(table string, s *schema.Schema, images []rowimage.Image, schemes tableSchemes,
	columns func(modelTable, column string) collation.Column) (deps []store.Dep, rows int) {
	t := p.cfg.Prefix + table
	whole := []store.Dep{{Table: t}}
	if !schemes.known {
		return whole, -1
	}
	deps = []store.Dep{{Table: t, Cond: anyRow}}
	for _, scheme := range schemes.list {
		cols := strings.Split(scheme, ",")
		for _, img := range images {
			conj, member, ok := imageConj(s, cols, img, columns)
			if !ok {
				return whole, -1
			}
			if member {
				deps = append(deps, store.Dep{Table: t, Cond: conj.Key()})
			}
		}
	}
	deps = dedupe(deps)
	return deps, len(deps) - 1
}

// imageConj returns the conjunction of scheme cols that img belongs to.
// member is false when img belongs to none: its value for a column on which
// only IS NULL can be tracked (a time, a float) is not NULL. ok is false
// when img cannot be placed: the caller invalidates the whole table.
func imageConj(s *schema.Schema, cols []string, img rowimage.Image, columns func(modelTable, column string) collation.Column) (conj deps.Conj, member, ok bool) {
	conj = make(deps.Conj, 0, len(cols))
	for _, col := range cols {
		v, present := img[col]
		if !present {
			return nil, false, false
		}
		f := depscan.Field(s, col)
		canon, ok := canon(columns, s, f, v)
		if !ok {
			if f != nil && !depscan.Equatable(f) {
				return nil, false, true
			}
			return nil, false, false
		}
		conj = append(conj, deps.Term{Column: col, Value: canon})
	}
	return conj, true, true
}

// queryDeps returns what a built statement depends on: everything (the
// global dependency), each table it reads as a whole, and the rows of each
// table it reads: the conjunctions depscan.Extract proves, or any row. With a
// store that has no scheme registry, or a model whose policy asks for
// table-level precision, reads depend on any row of their tables. schemes
// are the schemes to register per (namespaced) table before the read.
func (p *Plugin) queryDeps(db *gorm.DB, rd *read) ([]store.Dep, []tableSchemesOf, error) {
	stmt, analysis := db.Statement, rd.analysis
	// The global dependency, then two per table, often three.
	r := readSet{deps: make([]store.Dep, 1, 1+3*len(analysis.Reads))}
	r.deps[0] = p.global
	if _, ok := p.store.(store.SchemeRegistry); !ok || p.precision(rd.pol) == TableLevel {
		for _, t := range analysis.Reads {
			r.add(p.cfg.Prefix+t, nil)
		}
		return r.deps, nil, nil
	}
	var opts depscan.Options
	if o := rd.opts; o != nil && o.owner == stmt {
		opts.Fields = o.fields
	}
	opts.Columns = p.readColumns(db, analysis.Reads)
	tables, err := p.extractor.Extract(stmt, analysis, opts)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tables {
		r.add(p.cfg.Prefix+t.Name, t.Conjs)
	}
	return r.deps, r.schemes, nil
}
