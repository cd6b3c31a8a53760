package collation

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"

	"gorm.io/gorm"
)

// sessionQuery reads what every comparison depends on besides the
// columns: the character set the session sends strings in, and sql_mode.
const sessionQuery = `SELECT @@character_set_connection, @@sql_mode`

// columnsQuery reads the columns of some tables of the current database,
// whether each table is a sequence (MariaDB's), and its engine; its IN
// list is completed with one placeholder per table.
const columnsQuery = `SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, COALESCE(c.CHARACTER_SET_NAME, ''), COALESCE(c.COLLATION_NAME, ''), c.EXTRA,
		COALESCE(t.TABLE_TYPE = 'SEQUENCE', 0), COALESCE(t.ENGINE, '')
	FROM information_schema.COLUMNS c LEFT JOIN information_schema.TABLES t
		ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
	WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME IN (`

// readMySQL is the reader of MySQL and MariaDB: information_schema's
// columns, and the weights of the collations they use.
func readMySQL(ctx context.Context, c *Catalog, pool gorm.ConnPool, tables []string) ([]columnDef, bool, error) {
	var charset, mode string
	if err := pool.QueryRowContext(ctx, sessionQuery).Scan(&charset, &mode); err != nil {
		return nil, false, err
	}
	// Strings reach the server in the session's character set: one that
	// is not Unicode would turn them into other characters than Go's.
	unicode := charset == "utf8mb4"
	strict := strings.Contains(mode, "STRICT_TRANS_TABLES") || strings.Contains(mode, "STRICT_ALL_TABLES")

	rows, err := pool.QueryContext(ctx, columnsQuery+placeholders(len(tables), false)+")", anys(tables)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	type def struct {
		table, column, dataType, charset, collation, extra, engine string
		sequence                                                   bool
	}
	var read []def
	for rows.Next() {
		var d def
		if err := rows.Scan(&d.table, &d.column, &d.dataType, &d.charset, &d.collation, &d.extra, &d.sequence, &d.engine); err != nil {
			return nil, false, err
		}
		read = append(read, d)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	defs := make([]columnDef, len(read))
	for i, d := range read {
		cmp, err := c.kind(ctx, pool, d.dataType, d.charset, d.collation, unicode)
		if err != nil {
			return nil, false, err
		}
		defs[i] = columnDef{table: d.table, column: d.column, cmp: cmp, generated: generatedColumn.MatchString(d.extra),
			sequence: d.sequence, keepsRolledBack: !transactional(d.engine)}
	}
	return defs, strict, nil
}

// transactional reports whether a rollback undoes the writes to a table of
// engine: InnoDB's (XtraDB's), MyRocks' and TokuDB's; a view's, whose
// writes are its tables' (no engine). MyISAM, Aria, MEMORY and the other
// engines keep what a rolled-back transaction wrote.
func transactional(engine string) bool {
	switch strings.ToLower(engine) {
	case "", "innodb", "xtradb", "rocksdb", "tokudb":
		return true
	}
	return false
}

// kind returns how a column of the data type, character set and collation
// compares, reading the collation's weights if needed.
func (c *Catalog) kind(ctx context.Context, pool gorm.ConnPool, dataType, charset, collation string, unicode bool) (Column, error) {
	switch strings.ToLower(dataType) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return Column{Kind: Integer}, nil
	case "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return Binary, nil
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
		if !unicode {
			return Column{}, nil
		}
		f, err := c.folding(ctx, pool, charset, collation)
		if err != nil || f == nil {
			return Column{}, err
		}
		if dataType == "char" && !f.pad {
			// CHAR pads what it stores with spaces, which a NO PAD
			// collation would then compare.
			return Column{}, nil
		}
		return Column{Kind: Text, fold: f}, nil
	}
	return Column{}, nil
}

var (
	// plainName is what a character set or collation name read from the
	// catalogue must look like to be written into a query.
	plainName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
	// generalCollation names collations that weigh each character alone:
	// no expansion, no contraction (unlike the UCA ones).
	generalCollation = regexp.MustCompile(`^(utf8mb4|utf8mb3|utf8)_general_(nopad_)?ci$`)
	// generatedColumn matches the EXTRA of a generated column in
	// information_schema.COLUMNS: VIRTUAL, STORED or (MariaDB) PERSISTENT
	// GENERATED; not MySQL's DEFAULT_GENERATED, a default expression.
	generatedColumn = regexp.MustCompile(`(?i)\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b`)
	// binaryCollation names collations that compare code points.
	binaryCollation = regexp.MustCompile(`^(utf8mb4|utf8mb3|utf8)(_nopad|_0900)?_bin$`)
)

// folding returns the Folding of collation, read from the database once;
// nil when it is not one Key reproduces.
func (c *Catalog) folding(ctx context.Context, pool gorm.ConnPool, charset, collation string) (*Folding, error) {
	c.mu.Lock()
	f, known := c.foldings[collation]
	c.mu.Unlock()
	if known {
		return f, nil
	}
	f, err := readFolding(ctx, pool, charset, collation)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.foldings == nil {
		c.foldings = map[string]*Folding{}
	}
	c.foldings[collation] = f
	c.mu.Unlock()
	return f, nil
}

// errWeights reports weights that are not one character's weight each.
var errWeights = errors.New("a character of the collation has no weight of the width of the others")

// readFolding reads from the database how collation compares; nil when it
// is not one Key reproduces.
func readFolding(ctx context.Context, pool gorm.ConnPool, charset, collation string) (*Folding, error) {
	if !plainName.MatchString(charset) || !plainName.MatchString(collation) {
		return nil, nil
	}
	general, binary := generalCollation.MatchString(collation), binaryCollation.MatchString(collation)
	if !general && !binary || !strings.HasPrefix(collation, charset+"_") {
		return nil, nil
	}
	f := &Folding{name: collation, maxRune: 0x10FFFF}
	if charset != "utf8mb4" {
		f.maxRune = 0xFFFF // utf8mb3 stores the BMP only
	}
	as := func(s string) string { return "CONVERT(" + s + " USING " + charset + ") COLLATE " + collation }
	if err := pool.QueryRowContext(ctx, "SELECT "+as("'a'")+" = "+as("'a '")).Scan(&f.pad); err != nil {
		return nil, err
	}
	if binary {
		return f, nil
	}
	f.maxRune = 0xFFFF // weights are read for the BMP only
	weights, err := readWeights(ctx, pool, as("CHAR(n.cp USING utf32)"))
	if errors.Is(err, errWeights) {
		return nil, nil
	}
	f.weights = weights
	return f, err
}

// readWeights returns the weight of each character of the BMP whose weight
// is not its code point, as WEIGHT_STRING(char) gives it, char being the
// character n.cp in the collation.
func readWeights(ctx context.Context, pool gorm.ConnPool, char string) (map[rune]rune, error) {
	digit := "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15)"
	query := "SELECT n.cp, HEX(WEIGHT_STRING(" + char + ")) FROM (SELECT a.d + 16*b.d + 256*c.d + 4096*e.d AS cp FROM " +
		digit + " a, " + digit + " b, " + digit + " c, " + digit + " e) n " +
		"WHERE n.cp NOT BETWEEN 55296 AND 57343 AND WEIGHT_STRING(" + char + ") <> UNHEX(LPAD(HEX(n.cp), 4, '0'))"
	rows, err := pool.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	weights := map[rune]rune{}
	for rows.Next() {
		var cp int64
		var weight sql.NullString
		if err := rows.Scan(&cp, &weight); err != nil {
			return nil, err
		}
		w, err := hex.DecodeString(weight.String)
		if err != nil || len(w) != 2 {
			return nil, errWeights
		}
		r := rune(w[0])<<8 | rune(w[1])
		if 0xD800 <= r && r <= 0xDFFF {
			return nil, errWeights // not a character: it could not be written into a Key
		}
		weights[rune(cp)] = r
	}
	return weights, rows.Err()
}
