package collation

import (
	"context"
	"database/sql"
	"strings"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/sqlscan"
)

// sqliteColumnsQuery reads the columns of tables and views of the main
// database, by lowercase name (SQLite's names ignore ASCII case): each
// column's declared type, and the statement that created its table, which
// alone says its collation. Its IN list is completed with one placeholder
// per table.
const sqliteColumnsQuery = `SELECT m.name, m.type, COALESCE(m.sql, ''), p.name, p.type
	FROM sqlite_master m, pragma_table_xinfo(m.name) p
	WHERE m.type IN ('table', 'view') AND lower(m.name) IN (`

// readSQLite is the reader of SQLite. A value compared with a column takes
// the column's affinity (a string that looks like a number, compared with
// a column of INTEGER, REAL or NUMERIC affinity, is one) and the column's
// collation.
func readSQLite(ctx context.Context, _ *Catalog, pool gorm.ConnPool, tables []string) ([]columnDef, bool, error) {
	rows, err := pool.QueryContext(ctx, sqliteColumnsQuery+placeholders(len(tables), false)+")", anys(tables)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var defs []columnDef
	collations := map[string]map[string]string{} // by the table's create statement
	for rows.Next() {
		var d columnDef
		var kind, create string
		var declared sql.NullString
		if err := rows.Scan(&d.table, &kind, &create, &d.column, &declared); err != nil {
			return nil, false, err
		}
		colls, parsed := collations[create]
		if !parsed {
			colls = nil
			if kind == "table" {
				colls = columnCollations(create)
			}
			collations[create] = colls
		}
		d.cmp = sqliteColumn(declared.String, colls, strings.ToLower(d.column))
		defs = append(defs, d)
	}
	return defs, true, rows.Err()
}

// sqliteColumn returns how a column of the declared type compares, given
// the collations of its table's columns (nil: unknown, as for a view,
// whose columns take their collations from the expressions they select).
func sqliteColumn(declared string, collations map[string]string, column string) Column {
	switch affinity(declared) {
	case "INTEGER", "NUMERIC":
		return Column{Kind: Integer}
	case "TEXT", "BLOB":
		if collations == nil {
			return Column{}
		}
		switch collations[column] {
		case "", "binary":
			return Binary
		case "nocase":
			return NoCase
		case "rtrim":
			return PadSpace
		}
	}
	// REAL affinity, or a collation the application defined.
	return Column{}
}

// affinity returns the affinity of a column of the declared type, by
// SQLite's rules (section 3.1 of its documentation of data types), in
// order.
func affinity(declared string) string {
	t := strings.ToUpper(declared)
	switch {
	case strings.Contains(t, "INT"):
		return "INTEGER"
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		return "TEXT"
	case t == "" || strings.Contains(t, "BLOB"):
		return "BLOB"
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB"):
		return "REAL"
	}
	return "NUMERIC"
}

// columnCollations returns the collation each column of a CREATE TABLE
// statement declares (lowercase names; "" for none), or nil when the
// statement cannot be read: it is not a plain CREATE TABLE (a virtual
// table), or it does not lex.
//
// SQLite keeps the statement as it was written and tells a column's
// collation nowhere else. A column definition is its name, its type and
// its constraints; COLLATE, outside the parentheses of a CHECK, DEFAULT or
// GENERATED expression, is its collation. Table constraints (CONSTRAINT,
// PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) declare none.
func columnCollations(create string) map[string]string {
	lx := sqlscan.NewLexer(create)
	var prefix []string // the words before the column list
	for {
		t := lx.Next()
		if t.Kind == sqlscan.LParen {
			break
		}
		if t.Kind == sqlscan.EOF || t.Kind == sqlscan.Invalid {
			return nil
		}
		prefix = append(prefix, strings.ToUpper(t.Text))
	}
	switch {
	case len(prefix) >= 2 && prefix[0] == "CREATE" && prefix[1] == "TABLE":
	case len(prefix) >= 3 && prefix[0] == "CREATE" && (prefix[1] == "TEMP" || prefix[1] == "TEMPORARY") && prefix[2] == "TABLE":
	default:
		return nil // CREATE VIRTUAL TABLE, or not a table's
	}
	out := map[string]string{}
	depth := 1
	start := true        // the next token starts a definition
	column := ""         // the definition's column; "" for a table constraint
	collateNext := false // the previous token was COLLATE
	for depth > 0 {
		t := lx.Next()
		switch t.Kind {
		case sqlscan.EOF, sqlscan.Invalid:
			return nil
		case sqlscan.LParen:
			depth++
			continue
		case sqlscan.RParen:
			depth--
			continue
		}
		if depth > 1 {
			continue
		}
		if t.Kind == sqlscan.Comma {
			start, collateNext = true, false
			continue
		}
		if start {
			start = false
			column = ""
			if t.Kind != sqlscan.Word || !isConstraintWord(t.Text) {
				column = strings.ToLower(unquote(t))
				out[column] = ""
			}
			continue
		}
		if collateNext {
			collateNext = false
			if column != "" {
				out[column] = strings.ToLower(unquote(t))
			}
			continue
		}
		collateNext = t.Kind == sqlscan.Word && strings.EqualFold(t.Text, "COLLATE")
	}
	return out
}

// isConstraintWord reports whether a definition starting with word is a
// table constraint.
func isConstraintWord(word string) bool {
	switch strings.ToUpper(word) {
	case "CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN":
		return true
	}
	return false
}

// unquote returns the name a token spells: a quoted identifier ("x", `x`,
// [x]) or string ('x', which SQLite takes for a name there) without its
// quotes, a doubled quote inside read as one.
func unquote(t sqlscan.Token) string {
	s := t.Text
	if (t.Kind != sqlscan.QuotedIdent && t.Kind != sqlscan.String) || len(s) < 2 {
		return s
	}
	open, body := s[0], s[1:len(s)-1]
	switch open {
	case '"', '`', '\'':
		return strings.ReplaceAll(body, string([]byte{open, open}), string(open))
	case '[':
		return body
	}
	return s
}
