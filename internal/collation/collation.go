// Package collation tells how a database compares the values of a column,
// so that a dependency can name a value by what the database considers
// equal to it. Equality is not always byte equality:
//
//   - MySQL and MariaDB: the default collations ignore case and accents
//     (utf8mb4_general_ci: 'ADA' = 'ada' = 'ádá'), PAD SPACE collations
//     ignore trailing spaces ('ada ' = 'ada'), and a string compared with a
//     number is converted to one ('abc' = 0);
//   - PostgreSQL: char(n) ignores trailing spaces, citext and
//     nondeterministic (ICU) collations ignore case or accents, and a
//     string compared with a uuid, an integer or a date is parsed as one
//     ('A0EEBC99-...' equals its lower case, which names it);
//   - SQLite: a column declared COLLATE NOCASE ignores the case of ASCII
//     letters, RTRIM trailing spaces, and a column of INTEGER, REAL or
//     NUMERIC affinity converts a string that looks like a number ('07' =
//     7).
//
// A schema may say so in its migrations only, never in the Go model. A
// Column says, for one column, what kind of values it holds and, for
// strings, the Key that names a string by its class of equal strings: two
// strings are equal in the column exactly when their Keys are (or, where
// the database's classes are finer, the Keys' classes hold them: a
// coarser name is only less precise). Keys come from the database itself,
// never from a table of ours: Catalog reads each column's type and
// collation from the database's catalogue, and on MySQL, for a collation
// that compares character by character (the *_general_ci family, the
// binary ones), the weight the server gives each character of the Basic
// Multilingual Plane (WEIGHT_STRING), checking that each has one weight of
// one width. Every other column (MySQL's utf8mb4_unicode_ci,
// utf8mb4_0900_ai_ci and the other UCA collations, with their expansions
// and contractions; latin1's; PostgreSQL's citext and nondeterministic
// collations; SQLite's own collations; floats, decimals, times, JSON)
// gives an Other column: nothing but NULL is proven on it, and the plugin
// falls back to its table.
package collation

import (
	"strings"
	"unicode/utf8"
)

// Kind is what a column holds, as far as equality with a value is
// concerned.
type Kind uint8

const (
	// Other columns prove nothing but IS NULL: unknown columns, types
	// compared otherwise than by value (floats, decimals, dates, JSON,
	// MySQL's enums) and strings in a collation Key cannot reproduce.
	Other Kind = iota
	// Integer columns compare integers by value, and booleans: MySQL's
	// TINYINT to BIGINT, signed or not, and the TINYINT(1) of booleans;
	// PostgreSQL's smallint, integer, bigint and boolean; SQLite's
	// columns of INTEGER and NUMERIC affinity.
	Integer
	// Text columns compare strings as their Folding does: MySQL's CHAR,
	// VARCHAR, the TEXTs, VARBINARY and the BLOBs; PostgreSQL's text,
	// varchar, char(n) and enums in a deterministic collation, and uuids;
	// SQLite's columns of TEXT and BLOB affinity in BINARY, NOCASE or
	// RTRIM.
	Text
)

// Column is how the database compares the values of one column. The zero
// Column is Other. Columns are comparable: two columns compare values
// alike exactly when they are ==.
type Column struct {
	Kind Kind
	fold *Folding // for Text
}

// Key returns the name of the class of strings the column considers equal
// to s, and false when s cannot be named safely: s is not valid UTF-8 in a
// column of characters, or holds a character beyond the column's
// character set or beyond what its collation's weights were read for. Key
// is false for every string of a column that is not Text.
func (c Column) Key(s string) (string, bool) {
	if c.Kind != Text {
		return "", false
	}
	return c.fold.key(s)
}

// Folding is how a collation compares strings: character by character,
// by the weight of each (the code point, unless weights say otherwise),
// and, for a PAD SPACE collation, ignoring the trailing characters that
// weigh what a space does; or byte for byte, with SQLite's variations; or
// as the uuids they spell.
type Folding struct {
	name string
	// bytes: compared byte for byte, whatever they are (MySQL's binary
	// strings, PostgreSQL's deterministic collations, SQLite's): only
	// pad and ascii apply.
	bytes bool
	// ascii: the 26 letters of ASCII compare as their lower case
	// (SQLite's NOCASE); with bytes only.
	ascii bool
	// uuid: strings are read as PostgreSQL reads a uuid (pgUUID).
	uuid bool
	// weights maps a character of the Basic Multilingual Plane to its
	// weight, where that is not its code point; nil for a binary
	// collation, which compares code points.
	weights map[rune]rune
	// maxRune is the last character Key accepts: the character set's
	// last, or U+FFFF when only the BMP's weights were read.
	maxRune rune
	pad     bool // PAD SPACE
}

// Name returns the collation's name ("binary" for binary strings).
func (f *Folding) Name() string { return f.name }

func (f *Folding) key(s string) (string, bool) {
	if f.uuid {
		return pgUUID(s)
	}
	if f.bytes {
		switch {
		case f.pad:
			return strings.TrimRight(s, " "), true
		case f.ascii:
			if strings.IndexByte(s, 0) >= 0 {
				// SQLite's NOCASE stops comparing at a NUL.
				return "", false
			}
			return asciiLower(s), true
		}
		return s, true
	}
	if !utf8.ValidString(s) {
		return "", false
	}
	if f.weights == nil {
		for _, r := range s {
			if r > f.maxRune {
				return "", false
			}
		}
		if f.pad {
			return strings.TrimRight(s, " "), true
		}
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	end := 0 // the length of b up to its last character that is not a space's weight
	space := f.weight(' ')
	for _, r := range s {
		if r > f.maxRune {
			return "", false
		}
		w := f.weight(r)
		b.WriteRune(w)
		if !f.pad || w != space {
			end = b.Len()
		}
	}
	if !f.pad {
		end = b.Len()
	}
	return b.String()[:end], true
}

func (f *Folding) weight(r rune) rune {
	if w, ok := f.weights[r]; ok {
		return w
	}
	return r
}

// Columns of strings compared byte for byte, as PostgreSQL's and SQLite's
// catalogues give them.
var (
	// Binary compares bytes: PostgreSQL's text in a deterministic
	// collation, SQLite's BINARY.
	Binary = Column{Kind: Text, fold: binaryFolding}
	// PadSpace compares bytes but for trailing spaces: PostgreSQL's
	// char(n), SQLite's RTRIM.
	PadSpace = Column{Kind: Text, fold: padFolding}
	// NoCase compares bytes but for the case of ASCII letters: SQLite's
	// NOCASE.
	NoCase = Column{Kind: Text, fold: nocaseFolding}
	// UUID compares the uuids strings spell: PostgreSQL's uuid.
	UUID = Column{Kind: Text, fold: &Folding{name: "uuid", uuid: true}}
)

// The foldings of strings compared byte for byte.
var (
	// binaryFolding compares bytes, NO PAD: MySQL's binary strings,
	// PostgreSQL's deterministic collations, SQLite's BINARY.
	binaryFolding = &Folding{name: "binary", bytes: true}
	// padFolding compares bytes but for trailing spaces: PostgreSQL's
	// char(n) in a deterministic collation, SQLite's RTRIM.
	padFolding = &Folding{name: "binary pad space", bytes: true, pad: true}
	// nocaseFolding compares bytes but for the case of ASCII letters:
	// SQLite's NOCASE.
	nocaseFolding = &Folding{name: "nocase", bytes: true, ascii: true}
)

// asciiLower returns s with its ASCII upper-case letters in lower case,
// and every other byte as it is.
func asciiLower(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if c := b[j]; 'A' <= c && c <= 'Z' {
			b[j] = c + 'a' - 'A'
		}
	}
	return string(b)
}
