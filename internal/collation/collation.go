// Package collation tells how MySQL and MariaDB compare the values of a
// column, so that a dependency can name a value by what the database
// considers equal to it. There, equality is not byte equality: the default
// collations ignore case and accents (utf8mb4_general_ci: 'ADA' = 'ada' =
// 'ádá'), PAD SPACE collations ignore trailing spaces ('ada ' = 'ada'), and
// a string compared with a number is converted to one ('abc' = 0).
//
// A Column says, for one column, what kind of values it holds and, for
// strings, the Key that names a string by its class of equal strings: two
// strings are equal in the column exactly when their Keys are. Keys come
// from the database itself, never from a table of ours: Catalog reads each
// column's type and collation from information_schema, and for a
// collation that compares character by character (the *_general_ci
// family, the binary ones) the weight the server gives each character of
// the Basic Multilingual Plane (WEIGHT_STRING), checking that each has one
// weight of one width. Every other collation (utf8mb4_unicode_ci,
// utf8mb4_0900_ai_ci and the other UCA collations, with their expansions
// and contractions; latin1's; enums) gives an Other column: nothing but
// NULL is proven on it, and the plugin falls back to its table.
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
	// enums) and strings in a collation Key cannot reproduce.
	Other Kind = iota
	// Integer columns (TINYINT to BIGINT, signed or not, and the
	// TINYINT(1) of booleans) compare integers by value.
	Integer
	// Text columns (CHAR, VARCHAR, the TEXTs, VARBINARY and the BLOBs)
	// compare strings as their Folding does.
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
// weigh what a space does.
type Folding struct {
	name string
	// bytes: a binary string (VARBINARY, BLOB): compared byte for byte,
	// whatever they are.
	bytes bool
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
	if f.bytes {
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
