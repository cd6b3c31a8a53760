package collation

import (
	"context"

	"gorm.io/gorm"
)

// pgColumnsQuery reads the columns of the relations a query names without
// a schema would read (those pg_table_is_visible finds on the search
// path), by lowercase name: for each, its type (a domain's base type) and
// whether its collation is deterministic. Its IN list is completed with
// one placeholder per table.
const pgColumnsQuery = `SELECT c.relname, a.attname, t.typname, t.typtype, COALESCE(co.collisdeterministic, true)
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	JOIN pg_catalog.pg_type d ON d.oid = a.atttypid
	JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN d.typtype = 'd' THEN d.typbasetype ELSE d.oid END
	LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_catalog.pg_table_is_visible(c.oid)
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
		if err := rows.Scan(&d.table, &d.column, &typeName, &typeType, &deterministic); err != nil {
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
	}
	// citext, name (cut to 63 bytes), uuid, numbers, times, json...
	return Column{}
}
