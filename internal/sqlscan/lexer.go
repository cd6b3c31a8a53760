package sqlscan

import "strings"

// Kind classifies a Token.
type Kind uint8

// The token kinds.
const (
	EOF         Kind = iota // end of input
	Word                    // unquoted identifier or keyword: SELECT, photos, count
	QuotedIdent             // "x", `x`, [x] or U&"x"; Text keeps the quotes
	String                  // '...', E'...', N'...', X'...', B'...', U&'...', $$...$$, $tag$...$tag$
	Number                  // 42, 3.14, .5, 1e-3, 0x1F
	Param                   // ?, $1, :name, @name, @@name, $name
	Op                      // operators and other punctuation: =, <>, ::, ->>, *, {
	LParen                  // (
	RParen                  // )
	LBracket                // a [ that does not open a bracket-quoted identifier (a PostgreSQL subscript)
	RBracket                // ]
	Comma                   // ,
	Semicolon               // ;
	Dot                     // .
	Invalid                 // input that is unterminated or that the supported dialects tokenize differently; runs to the end
)

var kindNames = [...]string{
	EOF: "EOF", Word: "Word", QuotedIdent: "QuotedIdent", String: "String",
	Number: "Number", Param: "Param", Op: "Op", LParen: "LParen",
	RParen: "RParen", LBracket: "LBracket", RBracket: "RBracket",
	Comma: "Comma", Semicolon: "Semicolon", Dot: "Dot", Invalid: "Invalid",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Token is one lexical token. Text is a slice of the input, quotes and
// literal prefixes included, so lexing allocates nothing.
type Token struct {
	Kind    Kind
	Keyword Keyword // of a Word; KwNone for any other kind
	Text    string
	Pos     int // byte offset of Text in the input
}

// Lexer splits SQL into tokens, skipping whitespace and comments. It reads
// the syntax of PostgreSQL, MySQL/MariaDB, SQLite and SQL Server at once; where
// they disagree on where a token ends it returns Invalid rather than pick one
// (see the package documentation).
type Lexer struct {
	src string
	pos int
	// fence is a position no token or comment may straddle, or -1. A MySQL
	// line comment (# or --x) is lexed as code, the PostgreSQL reading, and
	// fences its end of line: a string opened inside the comment and closed
	// after it would hide code from MySQL. A [ read as a subscript fences its
	// ]: SQLite and SQL Server read up to there as one identifier.
	fence int
	// lineFence records that a line was fenced: the tokens then depend on
	// where that line ends, so re-spacing them may change their meaning.
	lineFence bool
}

// NewLexer returns a Lexer reading src.
func NewLexer(src string) Lexer { return Lexer{src: src, fence: -1} }

// Next returns the next token. After EOF or Invalid it keeps returning EOF.
func (l *Lexer) Next() Token {
	if !l.skipSpace() {
		return l.fail(l.pos)
	}
	start := l.pos
	if start >= len(l.src) {
		return Token{Kind: EOF, Pos: start}
	}
	l.pass(start)
	k := l.scan()
	if k == Invalid || l.straddles(start, l.pos) {
		return l.fail(start)
	}
	t := Token{Kind: k, Text: l.src[start:l.pos], Pos: start}
	if k == Word {
		t.Keyword = keyword(t.Text)
	}
	return t
}

// pass drops the fence once lexing has reached it.
func (l *Lexer) pass(pos int) {
	if l.fence >= 0 && pos >= l.fence {
		l.fence = -1
	}
}

// straddles reports whether a token or comment from start to end crosses the
// fence.
func (l *Lexer) straddles(start, end int) bool {
	l.pass(start)
	return l.fence >= 0 && end > l.fence
}

// fail returns the rest of the input from start as one Invalid token.
func (l *Lexer) fail(start int) Token {
	l.pos = len(l.src)
	return Token{Kind: Invalid, Text: l.src[start:], Pos: start}
}

// setFence fences at; a second, different fence while one is pending is
// reported as false (Invalid) rather than tracked.
func (l *Lexer) setFence(at int) bool {
	if l.fence >= 0 && l.fence != at {
		return false
	}
	l.fence = at
	return true
}

// skipSpace skips whitespace and comments. It reports false, at the start of
// the comment, for a comment straddling the fence and for a block comment
// that is unterminated, nested (PostgreSQL and SQL Server nest them, MySQL and
// SQLite do not) or MySQL-executable (/*! */, /*M! */).
func (l *Lexer) skipSpace() bool {
	s := l.src
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '-' && l.pos+1 < len(s) && s[l.pos+1] == '-' &&
			(l.pos+2 == len(s) || s[l.pos+2] <= ' ' || s[l.pos+2] == 0x7f):
			// Every dialect reads "-- " as a comment; MySQL reads "--x" as
			// minus minus x, and so does operator.
			end := len(s)
			if nl := strings.IndexByte(s[l.pos:], '\n'); nl >= 0 {
				end = l.pos + nl
			}
			if l.straddles(l.pos, end) {
				return false
			}
			l.pos = end
		case c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '*':
			end := blockCommentEnd(s, l.pos)
			if end < 0 || l.straddles(l.pos, end) {
				return false
			}
			l.pos = end
		default:
			return true
		}
	}
	return true
}

// blockCommentEnd returns the end of the block comment at start, or -1 when
// the dialects disagree on it or it is unterminated.
func blockCommentEnd(s string, start int) int {
	body := s[start+2:]
	if strings.HasPrefix(body, "!") || strings.HasPrefix(body, "M!") {
		return -1
	}
	k := strings.Index(body, "*/")
	if k < 0 || strings.Contains(body[:k+1], "/*") {
		return -1
	}
	return start + 2 + k + 2
}

// scan reads the token at l.pos, which is not space, and returns its kind.
func (l *Lexer) scan() Kind {
	s, i := l.src, l.pos
	c := s[i]
	switch {
	case isIdentStart(c):
		if i+1 < len(s) && s[i+1] == '\'' && c|0x20 == 'e' {
			// PostgreSQL's escape string: backslashes escape, always.
			end := closeQuote(s, i+2, '\'', true)
			if end < 0 {
				return Invalid
			}
			l.pos = end
			return String
		}
		if i+1 < len(s) && s[i+1] == '\'' && strings.IndexByte("nNxXbB", c) >= 0 {
			l.pos++
			return l.quoted('\'', String)
		}
		if c|0x20 == 'u' && i+2 < len(s) && s[i+1] == '&' && (s[i+2] == '\'' || s[i+2] == '"') {
			// PostgreSQL's U&'...' and U&"..." with Unicode escapes.
			l.pos += 2
			if s[i+2] == '"' {
				return l.quoted('"', QuotedIdent)
			}
			return l.quoted('\'', String)
		}
		l.pos = identEnd(s, i+1)
		return Word
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
		return l.number()
	}
	switch c {
	case '(':
		l.pos++
		return LParen
	case ')':
		l.pos++
		return RParen
	case ',':
		l.pos++
		return Comma
	case ';':
		l.pos++
		return Semicolon
	case '.':
		l.pos++
		return Dot
	case ']':
		l.pos++
		return RBracket
	case '\'':
		return l.quoted('\'', String)
	case '"':
		return l.quoted('"', QuotedIdent)
	case '`':
		end := closeQuote(s, i+1, '`', false)
		if end < 0 {
			return Invalid
		}
		l.pos = end
		return QuotedIdent
	case '[':
		return l.bracket()
	case '$':
		return l.dollar()
	case '?':
		l.pos++
		return Param
	case ':':
		return l.colon()
	case '@':
		j := i + 1
		if j < len(s) && s[j] == '@' {
			j++
		}
		if j < len(s) && isIdentStart(s[j]) {
			l.pos = identEnd(s, j+1)
			return Param
		}
	}
	return l.operator()
}

// quoted reads a literal opened by the quote q at l.pos, where doubling q
// escapes it. MySQL also lets a backslash escape the next character ('...'
// always, "..." unless ANSI_QUOTES); PostgreSQL and SQLite do not (E'...'
// aside). When the two readings end the literal at different places the
// result is Invalid.
func (l *Lexer) quoted(q byte, k Kind) Kind {
	s, open := l.src, l.pos
	end := closeQuote(s, open+1, q, false)
	if end < 0 {
		return Invalid
	}
	if strings.IndexByte(s[open+1:end], '\\') >= 0 && closeQuote(s, open+1, q, true) != end {
		return Invalid
	}
	l.pos = end
	return k
}

// closeQuote returns the index just past the q that closes a literal whose
// body starts at i, or -1. A doubled q, and with backslash a backslash,
// escape.
func closeQuote(s string, i int, q byte, backslash bool) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c == q:
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		case c == '\\' && backslash:
			i += 2
		case !backslash:
			k := strings.IndexByte(s[i:], q)
			if k < 0 {
				return -1
			}
			i += k
		default:
			i++
		}
	}
	return -1
}

// bracket reads a [ at l.pos. SQL Server and SQLite quote identifiers with
// [...]; PostgreSQL subscripts arrays with it. A plain body ([my table],
// [1], [1:2]) is a QuotedIdent: PostgreSQL reads a subscript of names and
// numbers there, nothing that reads a table. A body with parentheses,
// quotes, semicolons, or nothing but space, is read as code, the PostgreSQL
// reading, with the closing ] fenced so that both readings agree on what
// follows. A -- in a plain body comments the ] out for PostgreSQL only:
// Invalid.
func (l *Lexer) bracket() Kind {
	s, open := l.src, l.pos
	k := strings.IndexByte(s[open+1:], ']')
	if k < 0 {
		l.pos++
		return LBracket
	}
	end := open + 1 + k
	body := s[open+1 : end]
	switch {
	case strings.ContainsAny(body, "()[];'\"`$#") || onlySpace(body):
		if !l.setFence(end) {
			return Invalid
		}
		l.pos++
		return LBracket
	case strings.Contains(body, "--"):
		return Invalid
	}
	l.pos = end + 1
	return QuotedIdent
}

// onlySpace reports whether s holds nothing but whitespace and comments.
func onlySpace(s string) bool {
	l := NewLexer(s)
	return l.skipSpace() && l.pos == len(s)
}

// dollar reads a $ at l.pos: $1, a dollar-quoted string, $name or a lone $.
func (l *Lexer) dollar() Kind {
	s, i := l.src, l.pos+1
	if i < len(s) && isDigit(s[i]) {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		l.pos = i
		return Param
	}
	j := i
	if j < len(s) && isIdentStart(s[j]) {
		for j < len(s) && isIdentChar(s[j]) && s[j] != '$' {
			j++
		}
	}
	if j < len(s) && s[j] == '$' {
		tag := s[l.pos : j+1]
		k := strings.Index(s[j+1:], tag)
		if k < 0 {
			return Invalid
		}
		l.pos = j + 1 + k + len(tag)
		return String
	}
	if j > i {
		l.pos = j
		return Param
	}
	l.pos++
	return Op
}

// colon reads a : at l.pos: ::, :=, :name, :1 or a lone :.
func (l *Lexer) colon() Kind {
	s, i := l.src, l.pos+1
	if i < len(s) {
		switch c := s[i]; {
		case c == ':' || c == '=':
			l.pos += 2
			return Op
		case isIdentStart(c) || isDigit(c):
			l.pos = identEnd(s, i+1)
			return Param
		}
	}
	l.pos++
	return Op
}

// operator reads the longest run of operator characters at l.pos, stopping
// before a comment, a ? placeholder or an @name parameter. A character that
// is no operator character is an Op of its own.
func (l *Lexer) operator() Kind {
	s, start := l.src, l.pos
	if !isOpChar(s[start]) {
		l.pos++
		return Op
	}
	i := start
	for i < len(s) && isOpChar(s[i]) {
		c := s[i]
		if i > start && (c == '?' || c == '@' && i+1 < len(s) && isIdentStart(s[i+1])) {
			break
		}
		if i+1 < len(s) && (c == '-' && s[i+1] == '-' || c == '/' && s[i+1] == '*') {
			break
		}
		i++
	}
	// "--x" that skipSpace left: a comment to PostgreSQL and SQLite, minus
	// minus x to MySQL. Read as code, with the line fenced.
	minusMinus := i == start
	if minusMinus {
		i++
	}
	if minusMinus || strings.IndexByte(s[start:i], '#') >= 0 {
		eol := len(s)
		if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
			eol = i + nl
		}
		if !l.setFence(eol) {
			return Invalid
		}
		l.lineFence = true
	}
	l.pos = i
	return Op
}

// number reads a numeric literal at l.pos. One followed by an identifier
// character (1abc) is an identifier to MySQL, a number and an alias to older
// PostgreSQL and an error to SQLite: Invalid.
func (l *Lexer) number() Kind {
	s, i := l.src, l.pos
	if n := radixPrefix(s[i:]); n > 0 {
		i += n
	} else {
		i = digitsEnd(s, i)
		if i < len(s) && s[i] == '.' {
			i = digitsEnd(s, i+1)
		}
		if i < len(s) && s[i]|0x20 == 'e' {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			if j < len(s) && isDigit(s[j]) {
				i = digitsEnd(s, j)
			}
		}
	}
	if i < len(s) && isIdentChar(s[i]) {
		return Invalid
	}
	l.pos = i
	return Number
}

// radixPrefix returns the length of a 0x, 0b or 0o literal at the start of
// s, or 0.
func radixPrefix(s string) int {
	if len(s) < 3 || s[0] != '0' {
		return 0
	}
	var digit func(byte) bool
	switch s[1] | 0x20 {
	case 'x':
		digit = func(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
	case 'b':
		digit = func(c byte) bool { return c == '0' || c == '1' }
	case 'o':
		digit = func(c byte) bool { return '0' <= c && c <= '7' }
	default:
		return 0
	}
	i := 2
	for i < len(s) && digit(s[i]) {
		i++
	}
	if i == 2 {
		return 0
	}
	return i
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func identEnd(s string, i int) int {
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart reports whether c may start an unquoted identifier. Every
// byte of a multi-byte UTF-8 sequence counts, as in PostgreSQL and MySQL.
func isIdentStart(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

func isOpChar(c byte) bool { return strings.IndexByte("+-*/<>=~!@#%^&|?", c) >= 0 }
