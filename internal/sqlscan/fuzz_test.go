package sqlscan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzAnalyze checks that Analyze never panics, is deterministic, reports
// normalized names and consistent flags, and does not depend on the
// whitespace and comments between tokens.
func FuzzAnalyze(f *testing.F) {
	for _, c := range catalogue {
		f.Add(c.sql)
	}
	for _, s := range append(writesZZ, readsZZ...) {
		f.Add(s)
	}
	for _, s := range []string{
		"SELECT * FROM a; DELETE FROM b; UPDATE c SET x = 1",
		"WITH a AS (WITH b AS (DELETE FROM c RETURNING *) SELECT * FROM b) SELECT * FROM a",
		"SELECT (((((((((((1)))))))))))",
		"SELECT * FROM [a b], `c d`, \"e f\", 'g'",
		"SELECT $a$ $b$ $a$, $1, $ FROM t",
		"SELECT 1 #\n'x'",
		"SELECT a[ (SELECT b FROM c) ] FROM d",
		"EXPLAIN ANALYZE EXPLAIN ANALYZE DELETE FROM t",
		"UPDATE a SET b = 1 FROM c AS a",
		"\x00\xff\xfe SELECT",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		a := Analyze(sql)
		require.Equal(t, a, Analyze(sql), "not deterministic")
		for _, n := range append(append([]string(nil), a.Reads...), a.Writes...) {
			require.NotEmpty(t, n)
			require.Equal(t, strings.ToLower(n), n, "name not lowercased")
			require.False(t, strings.ContainsAny(n, "\"`[]"), "name %q keeps quotes", n)
		}
		require.Equal(t, !a.Unknown && len(a.Writes) == 0, a.Harmless, "Harmless")
		require.Equal(t, lexed(sql), tokens(&a), "the tokens of the SQL")
		if a.ReadOnly {
			require.True(t, a.Harmless && !a.Locking, "ReadOnly but not harmless or locking")
		}

		// Nothing in sql reaches across a statement boundary: it cannot hide
		// a statement after it, and one before it changes nothing.
		probe := Analyze(sql + "\n;\nDELETE FROM zz_probe")
		if !probe.Unknown {
			require.False(t, a.Unknown, "a statement after it hides Unknown")
			require.Contains(t, probe.Writes, "zz_probe", "the statement after it is hidden")
			require.Subset(t, probe.Writes, a.Writes)
			require.Subset(t, probe.Reads, a.Reads)
		}
		after := Analyze("SELECT 1 FROM zz_probe\n;\n" + sql)
		require.Equal(t, a.Unknown, after.Unknown, "a statement before it changes Unknown")
		require.Equal(t, a.Writes, after.Writes, "a statement before it changes Writes")

		for _, sep := range []string{" ", "\n\t ", " -- note\n", " /* note */ "} {
			spaced, ok := respace(sql, sep)
			if !ok {
				return
			}
			again := Analyze(spaced)
			require.Equal(t, withoutTokens(a), withoutTokens(again), "respaced with %q: %q", sep, spaced)
			require.Equal(t, texts(tokens(&a)), texts(tokens(&again)), "respaced with %q: %q", sep, spaced)
		}
	})
}

// respace rebuilds sql from its tokens with sep before each one. ok is false
// when that can change the meaning: an Invalid token, or a MySQL line comment
// read as code, whose end moves with the line breaks.
func respace(sql, sep string) (string, bool) {
	l := NewLexer(sql)
	var b strings.Builder
	for {
		t := l.Next()
		switch t.Kind {
		case EOF:
			return b.String(), !l.lineFence
		case Invalid:
			return "", false
		}
		b.WriteString(sep)
		b.WriteString(t.Text)
	}
}

// lexed returns the tokens of sql up to EOF, an EOF in place of an
// Invalid token.
func lexed(sql string) []Token {
	var out []Token
	for l := NewLexer(sql); ; {
		t := l.Next()
		if t.Kind == Invalid {
			t = Token{Kind: EOF, Pos: t.Pos}
		}
		if out = append(out, t); t.Kind == EOF {
			return out
		}
	}
}

// texts returns the text of each token.
func texts(toks []Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out
}
