package collation

import (
	"context"

	"gorm.io/gorm"
)

// pgColumnsQuery reads the columns of the relations a query names without
// a schema would read (those pg_table_is_visible finds on the search
// path), by lowercase name: for each, its type (a domain's base type),
// whether its collation is deterministic, and whether its relation reads
// a sequence: is one (of any schema: a name the plugin tracks has lost its
// schema), or is a view of one.
const pgColumnsQuery = `SELECT c.relname, a.attname, t.typname, t.typtype, COALESCE(co.collisdeterministic, true),
		c.relkind = 'S' OR c.relkind = 'v' AND EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite w
			JOIN pg_catalog.pg_depend dep ON dep.classid = 'pg_catalog.pg_rewrite'::regclass AND dep.objid = w.oid
			JOIN pg_catalog.pg_class s ON s.oid = dep.refobjid
			WHERE w.ev_class = c.oid AND s.relkind = 'S')
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type d ON d.oid = a.atttypid
	JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
	LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND (pg_catalog.pg_table_is_visible(c.oid) OR c.relkind = 'S')
	AND lower(c.relname) IN (`

// readPostgres is the reader of PostgreSQL (12 and later: collations
// tell whether they are deterministic). A deterministic collation finds
// strings equal only when their bytes are.
func readPostgres(ctx context.Context, _ *Catalog, pool gorm.ConnPool, tables []string) ([]columnDef, bool, error) {
	rows, err := pool.QueryContext(ctx, pgColumnsQuery+placeholders(len(tables), true)+")", anys(tables)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var defs []columnDef
	for rows.Next() {
		var d columnDef
		var typeName, typeType string
		var deterministic bool
		if err := rows.Scan(&d.table, &d.column, &typeName, &typeType, &deterministic, &d.sequence); err != nil {
			return nil, false, err
		}
		d.cmp = pgColumn(typeName, typeType, deterministic)
		defs = append(defs, d)
	}
	return defs, true, rows.Err()
}

// pgColumn returns how a column of the type (its pg_type name and typtype)
// compares, in a deterministic collation or not.
func pgColumn(typeName, typeType string, deterministic bool) Column {
	switch {
	case typeType == "d":
		// A domain over a domain: its base type was not read.
		return Column{}
	case typeName == "int2" || typeName == "int4" || typeName == "int8" || typeName == "bool":
		return Column{Kind: Integer}
	case !deterministic:
		return Column{}
	case typeName == "text" || typeName == "varchar" || typeType == "e":
		// An enum's values are its labels, compared exactly.
		return Binary
	case typeName == "bpchar":
		// char(n): trailing spaces are insignificant.
		return PadSpace
	case typeName == "uuid":
		return UUID
	}
	// citext, name (cut to 63 bytes), numbers, times, json...
	return Column{}
}

// pgUUID returns the canonical form (lower case, hyphenated 8-4-4-4-12) of
// the uuid s spells as PostgreSQL reads it: 32 hexadecimal digits of
// either case, a hyphen allowed after any group of four but the last, the
// whole optionally in braces. False when s is not one: the database
// refuses it.
func pgUUID(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		s = s[1 : len(s)-1]
	}
	var out [36]byte
	n, digits := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' && digits%4 == 0 && digits > 0 && digits < 32 && s[i-1] != '-':
			continue
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			c += 'a' - 'A'
		default:
			return "", false
		}
		if digits == 32 {
			return "", false
		}
		if digits == 8 || digits == 12 || digits == 16 || digits == 20 {
			out[n] = '-'
			n++
		}
		out[n] = c
		n++
		digits++
	}
	if digits != 32 {
		return "", false
	}
	return string(out[:]), true
}
