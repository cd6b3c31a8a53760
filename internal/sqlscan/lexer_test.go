package sqlscan

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// lex returns the tokens of src as "Kind:Text", up to EOF.
func lex(src string) []string {
	l := NewLexer(src)
	var out []string
	for {
		t := l.Next()
		if t.Kind == EOF {
			return out
		}
		out = append(out, t.Kind.String()+":"+t.Text)
	}
}

func TestLexer(t *testing.T) {
	cases := []struct {
		src  string
		want string // tokens joined by a space
	}{
		{`SELECT a, b.c FROM t;`, `Word:SELECT Word:a Comma:, Word:b Dot:. Word:c Word:FROM Word:t Semicolon:;`},
		{`"a ""b""" ` + "`c``d`" + ` [e f]`, "QuotedIdent:\"a \"\"b\"\"\" QuotedIdent:`c``d` QuotedIdent:[e f]"},
		{`'it''s' E'\n' N'x' x'1F' B'01' U&'\0061' U&"\0061" U &x`, `String:'it''s' String:E'\n' String:N'x' String:x'1F' String:B'01' String:U&'\0061' QuotedIdent:U&"\0061" Word:U Op:& Word:x`},
		{`$$a$b$$ $tag$ $$ $tag$ $1 $name $`, `String:$$a$b$$ String:$tag$ $$ $tag$ Param:$1 Param:$name Op:$`},
		{`? :name :1 @p @@global.x a::int :=`, `Param:? Param::name Param::1 Param:@p Param:@@global Dot:. Word:x Word:a Op::: Word:int Op::=`},
		{`a=?`, `Word:a Op:= Param:?`},
		{`a<>b<=c->>'d'||e @> f`, `Word:a Op:<> Word:b Op:<= Word:c Op:->> String:'d' Op:|| Word:e Op:@> Word:f`},
		{`1 1.5 .5 1. 1e10 1.5E-3 0x1F 0b101 0o17`, `Number:1 Number:1.5 Number:.5 Number:1. Number:1e10 Number:1.5E-3 Number:0x1F Number:0b101 Number:0o17`},
		{"a -- comment\nb /* c */ c", `Word:a Word:b Word:c`},
		{"a --\nb", `Word:a Word:b`},
		{`a--`, `Word:a`},
		{`a /* x */-1`, `Word:a Op:- Number:1`},
		{`über_tabelle ñ`, `Word:über_tabelle Word:ñ`},
		{`arr[1] arr[1:2] arr[(1)]`, `Word:arr QuotedIdent:[1] Word:arr QuotedIdent:[1:2] Word:arr LBracket:[ LParen:( Number:1 RParen:) RBracket:]`},
		{`int[]`, `Word:int LBracket:[ RBracket:]`},
		{`a[`, `Word:a LBracket:[`},
		{`a { b } \ c`, `Word:a Op:{ Word:b Op:} Op:\ Word:c`},

		// MySQL-only comments are read as code, up to a fenced end of line.
		{"a # b\nc", `Word:a Op:# Word:b Word:c`},
		{"1--1", `Number:1 Op:- Op:- Number:1`},
		{"a # 'b\nc'", `Word:a Op:# Invalid:'b` + "\nc'"},
		{"a --'b\nc'", `Word:a Op:- Op:- Invalid:'b` + "\nc'"},
		{"a # b\n'c\nd'", `Word:a Op:# Word:b String:'c` + "\nd'"},

		// Unterminated or read differently by the dialects.
		{`'abc`, `Invalid:'abc`},
		{`"abc`, `Invalid:"abc`},
		{"`abc", "Invalid:`abc"},
		{`$$abc`, `Invalid:$$abc`},
		{`a /* b`, `Word:a Invalid:/* b`},
		{`a /* b /* c */ d */`, `Word:a Invalid:/* b /* c */ d */`},
		{`a /* b /*/ c`, `Word:a Invalid:/* b /*/ c`},
		{`a /*! b */`, `Word:a Invalid:/*! b */`},
		{`a /*M! b */`, `Word:a Invalid:/*M! b */`},
		{`'a\'b'`, `Invalid:'a\'b'`},
		{`'a\\' b`, `String:'a\\' Word:b`},
		{`'a\b'`, `String:'a\b'`},
		{`"a\"b"`, `Invalid:"a\"b"`},
		{`E'a\'b' e'\\' E'\''`, `String:E'a\'b' String:e'\\' String:E'\''`},
		{`E'a\'`, `Invalid:E'a\'`},
		{`1abc`, `Invalid:1abc`},
		{`0x1G`, `Invalid:0x1G`},
		{`[a--b]`, `Invalid:[a--b]`},
		{`[a/*b*/]`, `QuotedIdent:[a/*b*/]`},
		{"[ -- c\n]", `LBracket:[ RBracket:]`},
		{"[(a) -- ]\n]", "LBracket:[ LParen:( Word:a RParen:) Invalid:-- ]\n]"},
		{`[a'b] 'c'`, `LBracket:[ Word:a Invalid:'b] 'c'`},
		{`[a'b'] c`, `LBracket:[ Word:a String:'b' RBracket:] Word:c`},
		{"[a # b] c\n", `LBracket:[ Word:a Invalid:# b] c` + "\n"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, strings.Join(lex(c.src), " "), "lex(%q)", c.src)
	}
}

func TestLexerAfterEnd(t *testing.T) {
	l := NewLexer(`'x`)
	assert.Equal(t, Invalid, l.Next().Kind)
	assert.Equal(t, EOF, l.Next().Kind)
	assert.Equal(t, Token{Kind: EOF, Pos: 2}, l.Next())
}

func TestKeyword(t *testing.T) {
	for _, c := range []struct {
		word     string
		want     Keyword
		reserved bool
	}{
		{"and", KwAnd, true},
		{"Like", KwValueWord, true},
		{"CURRENT_TIMESTAMP", KwValueWord, true},
		{"where", KwWhere, true},
		{"straight_join", KwStraightJoin, true},
		{"key", KwKey, false},
		{"ROWS", KwRows, false},
		{"photos", KwNone, false},
		{"a", KwNone, false},
	} {
		l := NewLexer(c.word)
		got := l.Next()
		assert.Equal(t, c.want, got.Keyword, c.word)
		assert.Equal(t, c.reserved, got.Keyword.Reserved(), c.word)
	}
	l := NewLexer(`"where"`)
	assert.Equal(t, KwNone, l.Next().Keyword, "a quoted identifier")
}
