package collation

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestColumnCollations checks the reading of column collations out of
// CREATE TABLE statements as SQLite keeps them.
func TestColumnCollations(t *testing.T) {
	for _, tc := range []struct {
		create string
		want   map[string]string
	}{
		{`CREATE TABLE t (a text, b TEXT COLLATE NOCASE, "C d" varchar(3) collate "RTRIM", [e] text COLLATE binary)`,
			map[string]string{"a": "", "b": "nocase", "c d": "rtrim", "e": "binary"}},
		{"CREATE TABLE `t` (`a` text -- COLLATE nocase\n, b text /* COLLATE nocase */ NOT NULL)",
			map[string]string{"a": "", "b": ""}},
		{`CREATE TABLE IF NOT EXISTS t (a text CHECK (a <> 'x' COLLATE nocase), b text AS (a COLLATE nocase) STORED,
			c text CONSTRAINT nn NOT NULL COLLATE nocase DEFAULT ('y' COLLATE rtrim), d numeric(10, 2),
			PRIMARY KEY (a COLLATE nocase), UNIQUE (b), CONSTRAINT ck CHECK (c <> ''), FOREIGN KEY (d) REFERENCES u (id))`,
			map[string]string{"a": "", "b": "", "c": "nocase", "d": ""}},
		{`CREATE TEMP TABLE t ("a""b" text COLLATE nocase, 'quoted' text) WITHOUT ROWID`,
			map[string]string{`a"b`: "nocase", "quoted": ""}},
		{`CREATE TABLE t (a text COLLATE mine, b text COLLATE nocase COLLATE binary)`,
			map[string]string{"a": "mine", "b": "binary"}},
		{`CREATE VIRTUAL TABLE t USING fts4(body)`, nil},
		{`CREATE TABLE t (a text COLLATE nocase`, nil},
		{`CREATE TABLE t (a text COLLATE 'unterminated)`, nil},
	} {
		assert.Equal(t, tc.want, columnCollations(tc.create), tc.create)
	}
}
