package collation

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Catalog holds how the columns of the tables of one database compare, as
// read from its information_schema through the pools Load is given. A
// table's columns are read when Load first needs them, again once they are
// older than MaxAge, and after Forget; until then, Column answers from what
// was read. The zero Catalog is ready to use and reads a table once, until
// Forget.
type Catalog struct {
	// MaxAge bounds how long a table's columns are trusted: DDL that the
	// caller does not see (another program's) is seen within MaxAge. Zero
	// trusts them until Forget.
	MaxAge time.Duration

	tables sync.Map // lowercase table name -> *table
	load   sync.Mutex
	// forgets counts the calls of Forget: a read that one overlapped may
	// predate the DDL, and is kept stale.
	forgets atomic.Uint64

	mu       sync.Mutex
	foldings map[string]*Folding // collation name -> its Folding; nil: not one Key reproduces
}

// table is what was read of one table.
type table struct {
	columns map[string]Column // lowercase column name -> how it compares
	readAt  time.Time
	strict  bool // the session's sql_mode was strict when it was read
	// generated: a column's values are computed from the others'
	// (GENERATED ALWAYS AS), so that an UPDATE changes it unassigned.
	generated bool
	stale     bool // Forget was called: read it again
}

// Column returns how the column of table (names in lower case) compares:
// Other when it was not read, is ambiguous (two tables or columns whose
// names differ only in case) or proves nothing.
func (c *Catalog) Column(tableName, column string) Column {
	if t, ok := c.tables.Load(tableName); ok {
		return t.(*table).columns[column]
	}
	return Column{}
}

// Strict reports whether the sessions that read table had a strict
// sql_mode (STRICT_TRANS_TABLES or STRICT_ALL_TABLES), so that the
// database refuses a value it cannot store rather than storing another
// one; false when table was not read.
func (c *Catalog) Strict(tableName string) bool {
	t, ok := c.tables.Load(tableName)
	return ok && t.(*table).strict
}

// StoresAssigned reports whether an UPDATE of table leaves every column
// that a Column compares (integers, strings) as the UPDATE assigns it: the
// table was read, under a strict sql_mode (see Strict), and none of its
// columns is generated. The columns the database sets ON UPDATE are times,
// which compare as Other. False when table was not read.
func (c *Catalog) StoresAssigned(tableName string) bool {
	t, ok := c.tables.Load(tableName)
	return ok && t.(*table).strict && !t.(*table).generated
}

// Forget makes Load read tables again, or every table: DDL changed them.
// What was read is kept until then, for Column, and so that Load can tell
// whether the columns changed.
func (c *Catalog) Forget(tables []string, all bool) {
	c.forgets.Add(1)
	stale := func(name, t any) bool {
		again := *t.(*table)
		again.stale = true
		c.tables.Store(name, &again)
		return true
	}
	if all {
		c.tables.Range(stale)
		return
	}
	for _, name := range tables {
		if t, ok := c.tables.Load(name); ok {
			stale(name, t)
		}
	}
}

// fresh reports whether tableName was read less than MaxAge ago, and not
// forgotten since.
func (c *Catalog) fresh(tableName string, now time.Time) bool {
	v, ok := c.tables.Load(tableName)
	if !ok {
		return false
	}
	t := v.(*table)
	return !t.stale && (c.MaxAge == 0 || now.Sub(t.readAt) < c.MaxAge)
}

// Load reads, through pool, the columns of those of tables (lowercase
// names) that are not fresh, and returns the tables whose columns now
// compare otherwise than when they were last read: the values of their
// cached results were named by other Keys, and the caller must invalidate
// them whole. When the database cannot be read, the tables keep what was
// read of them before, if anything, and Load returns the error. It costs
// nothing but a lookup per table when every one is fresh; otherwise two
// queries, and one more per collation met for the first time.
func (c *Catalog) Load(ctx context.Context, pool gorm.ConnPool, tables []string) (changed []string, err error) {
	now := time.Now()
	isFresh := func(t string) bool { return c.fresh(t, now) }
	if !slices.ContainsFunc(tables, func(t string) bool { return !isFresh(t) }) {
		return nil, nil // the common case, without allocating
	}
	c.load.Lock()
	defer c.load.Unlock()
	stale := slices.DeleteFunc(slices.Clone(tables), isFresh) // some may have been read meanwhile
	if len(stale) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	forgets := c.forgets.Load()
	read, err := c.read(ctx, pool, stale)
	if err != nil {
		return nil, fmt.Errorf("gormcache: reading how MySQL compares the columns of %s: %w", strings.Join(stale, ", "), err)
	}
	overlapped := c.forgets.Load() != forgets
	for _, name := range stale {
		t := read[name]
		t.stale = overlapped
		if old, ok := c.tables.Load(name); ok && !sameColumns(old.(*table), t) {
			changed = append(changed, name)
		}
		c.tables.Store(name, t)
	}
	return changed, nil
}

func sameColumns(a, b *table) bool {
	if len(a.columns) != len(b.columns) {
		return false
	}
	for name, col := range a.columns {
		if other, ok := b.columns[name]; !ok || other != col {
			return false
		}
	}
	return true
}

// sessionQuery reads what every comparison depends on besides the
// columns: the character set the session sends strings in, and sql_mode.
const sessionQuery = `SELECT @@character_set_connection, @@sql_mode`

// columnsQuery reads the columns of some tables of the current database;
// its IN list is completed with one placeholder per table.
const columnsQuery = `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), EXTRA
	FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (`

// read reads the columns of tables (a table that does not exist has
// none).
func (c *Catalog) read(ctx context.Context, pool gorm.ConnPool, tables []string) (map[string]*table, error) {
	var charset, mode string
	if err := pool.QueryRowContext(ctx, sessionQuery).Scan(&charset, &mode); err != nil {
		return nil, err
	}
	// Strings reach the server in the session's character set: one that
	// is not Unicode would turn them into other characters than Go's.
	unicode := charset == "utf8mb4"
	strict := strings.Contains(mode, "STRICT_TRANS_TABLES") || strings.Contains(mode, "STRICT_ALL_TABLES")

	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	rows, err := pool.QueryContext(ctx, columnsQuery+strings.TrimSuffix(strings.Repeat("?, ", len(tables)), ", ")+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type def struct{ table, column, dataType, charset, collation, extra string }
	var defs []def
	for rows.Next() {
		var d def
		if err := rows.Scan(&d.table, &d.column, &d.dataType, &d.charset, &d.collation, &d.extra); err != nil {
			return nil, err
		}
		defs = append(defs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	out := make(map[string]*table, len(tables))
	for _, t := range tables {
		out[t] = &table{columns: map[string]Column{}, readAt: time.Now(), strict: strict}
	}
	names := map[string]string{} // lowercase table name -> the name as the database spells it
	ambiguous := map[[2]string]bool{}
	for _, d := range defs {
		name := strings.ToLower(d.table)
		t, ok := out[name]
		if !ok {
			continue
		}
		t.generated = t.generated || generatedColumn.MatchString(d.extra)
		if spelled, seen := names[name]; seen && spelled != d.table {
			t.columns = nil // two tables whose names differ only in case
			continue
		}
		names[name] = d.table
		if t.columns == nil {
			continue
		}
		col := strings.ToLower(d.column)
		if _, dup := t.columns[col]; dup {
			ambiguous[[2]string{name, col}] = true
		}
		kind, err := c.kind(ctx, pool, d.dataType, d.charset, d.collation, unicode)
		if err != nil {
			return nil, err
		}
		t.columns[col] = kind
	}
	for key := range ambiguous {
		out[key[0]].columns[key[1]] = Column{}
	}
	for _, t := range out {
		if t.columns == nil {
			t.columns = map[string]Column{}
		}
	}
	return out, nil
}

// kind returns how a column of the data type, character set and collation
// compares, reading the collation's weights if needed.
func (c *Catalog) kind(ctx context.Context, pool gorm.ConnPool, dataType, charset, collation string, unicode bool) (Column, error) {
	switch strings.ToLower(dataType) {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		return Column{Kind: Integer}, nil
	case "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return Column{Kind: Text, fold: binaryFolding}, nil
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

// binaryFolding compares binary strings: byte for byte, NO PAD.
var binaryFolding = &Folding{name: "binary", bytes: true}

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
