package sqlscan

import (
	"math"
	"strings"
	"sync"
)

// Analysis is what Analyze learned about a piece of SQL of one or more
// statements. Table names are normalized: identifier quotes stripped, the
// last component of a qualified name kept, lowercased ("my schema"."Photos"
// is photos). They are deduplicated, in first-seen order, and may share
// memory with the analyzed SQL.
type Analysis struct {
	// Reads lists the tables named in FROM, JOIN and USING lists and TABLE
	// queries, at any depth: subqueries, CTE bodies, INSERT ... SELECT,
	// UPDATE ... FROM. CTE names are listed too.
	Reads []string
	// Writes lists the tables whose rows or definition the SQL changes:
	// targets of INSERT, REPLACE, UPSERT, UPDATE, DELETE, MERGE, TRUNCATE and
	// SELECT INTO, and tables and views created, altered, renamed, dropped or
	// refreshed. Every table before an UPDATE's SET is listed (MySQL's UPDATE
	// a JOIN b ... SET), and so is the table behind a target that is an alias
	// (UPDATE x ... FROM photos x, DELETE x FROM photos x).
	Writes []string
	// ReadOnly reports that there is at least one statement, every one a
	// plain query (SELECT, WITH ... SELECT, VALUES, TABLE) with no
	// data-modifying CTE, no INTO and no locking clause, and that nothing is
	// Unknown: the result may be cached under Reads.
	ReadOnly bool
	// Locking reports a locking read: FOR UPDATE, FOR NO KEY UPDATE, FOR
	// SHARE, FOR KEY SHARE, LOCK IN SHARE MODE.
	Locking bool
	// Harmless reports that the SQL changes no table data: Writes is empty and
	// nothing is Unknown. Besides queries (locking ones and SELECT INTO
	// OUTFILE included) that covers transaction control (BEGIN, START
	// TRANSACTION, COMMIT, END, ROLLBACK [TO SAVEPOINT], SAVEPOINT, RELEASE),
	// SET, RESET, SHOW, EXPLAIN without ANALYZE, PRAGMA, LISTEN, UNLISTEN,
	// NOTIFY, PREPARE, DEALLOCATE, DISCARD, CHECKPOINT, ANALYZE, VACUUM,
	// LOCK, UNLOCK and CREATE and DROP INDEX (an index changes no rows).
	Harmless bool
	// DDL reports that the SQL creates, alters, renames or drops a table or
	// view: what the database's catalogue says of some tables of Writes
	// (their columns, constraints, whether they exist) changes.
	DDL bool
	// Volatile reports SQL whose result can change without a write to the
	// tables it names: it reads a system catalogue (information_schema,
	// pg_catalog, pg_* and sqlite_* relations), which DDL changes without
	// naming it, or calls a function not known to depend on its arguments
	// only (now(), random(), nextval(), current_setting(), any user-defined
	// function), or reads the clock or the session otherwise
	// (CURRENT_TIMESTAMP, CURRENT_USER, 'now'). Such a result must not be
	// cached. Only set with ReadOnly.
	Volatile bool
	// Unknown reports that some statement could not be classified (CALL, DO,
	// COPY, EXECUTE, GRANT, ...), some written table could not be named
	// (UPDATE (SELECT ...), INSERT INTO $1) or the input could not be lexed
	// the same way in every dialect. Reads and Writes are then incomplete:
	// the caller must assume that any table may be read or written.
	Unknown bool
	// SQL is the text analysed, and Tokens are its tokens, classified by
	// keyword and ending with one EOF: readers that go further than Analyze
	// read them (Token) instead of lexing again. Input the dialects would
	// lex differently ends them early, with an EOF in place of the Invalid
	// token (and Unknown). Tokens is nil for a text of 4 GiB or more. An
	// Analysis is often shared: never modify them.
	SQL    string
	Tokens []Span
}

// Analyze reports which tables sql reads and writes and whether it is safe to
// cache, with the tokens it lexed for the readers that go further. It never
// fails: what it cannot tell is reported as Unknown. It is safe for
// concurrent use and allocates the returned slices only: Tokens, Reads and
// Writes.
func Analyze(sql string) Analysis {
	p := parsers.Get().(*parser)
	p.load(sql)
	a := p.analyze()
	a.SQL, a.Tokens = sql, spans(sql, p.toks)
	p.reset()
	parsers.Put(p)
	return a
}

// A Span is a Token as an Analysis keeps it, its Text being
// SQL[Start:End]: 12 bytes without pointers, which the garbage collector
// need not scan however many analyses a cache keeps.
type Span struct {
	Start, End uint32
	Kind       Kind
	Keyword    Keyword
}

// spans returns toks, the tokens of sql, as Spans; nil when sql is too
// long for them.
func spans(sql string, toks []Token) []Span {
	if uint64(len(sql)) > math.MaxUint32 {
		return nil
	}
	out := make([]Span, len(toks))
	for i, t := range toks {
		out[i] = Span{Start: uint32(t.Pos), End: uint32(t.Pos + len(t.Text)), Kind: t.Kind, Keyword: t.Keyword}
	}
	return out
}

// Token returns Tokens[i] as the Lexer returned it.
func (a *Analysis) Token(i int) Token {
	s := a.Tokens[i]
	return Token{Kind: s.Kind, Keyword: s.Keyword, Text: a.SQL[s.Start:s.End], Pos: int(s.Start)}
}

var parsers = sync.Pool{New: func() any { return new(parser) }}

// maxDepth bounds the nesting of parentheses and statements Analyze follows;
// deeper SQL is Unknown.
const maxDepth = 200

// parser holds the tokens of one Analyze call and what was found in them.
type parser struct {
	toks    []Token // the input's tokens, ending with EOF
	i       int     // current token
	depth   int
	reads   []string
	writes  []string
	targets []string // write targets of the UPDATE and DELETE statements being read
	aliases []alias  // aliases their FROM and USING lists define
	unknown bool
	locking bool
	// catalogue: the name read last is a system catalogue's; reads is
	// whether a system catalogue was read.
	catalogue, catalogueRead bool
	impure                   bool // the current statement is not a plain query
	ddl                      bool // a statement is DDL on a table or view
}

// alias records that name stands for table in an UPDATE's FROM list or a
// DELETE's USING list, where SQL Server and MySQL let the target be an
// alias: UPDATE x SET ... FROM photos x.
type alias struct{ name, table string }

var eof Token

func (p *parser) load(sql string) {
	l := NewLexer(sql)
	for {
		t := l.Next()
		if t.Kind == Invalid {
			p.unknown = true
			t = Token{Kind: EOF, Pos: t.Pos}
		}
		p.toks = append(p.toks, t)
		if t.Kind == EOF {
			return
		}
	}
}

// maxPooledTokens bounds the token buffer a pooled parser keeps, so that one
// huge statement does not pin its memory.
const maxPooledTokens = 4096

// reset readies p for the pool, dropping its references to the input.
func (p *parser) reset() {
	toks := p.toks[:0]
	if cap(toks) > maxPooledTokens {
		toks = nil
	}
	clear(p.toks)
	clear(p.reads)
	clear(p.writes)
	clear(p.targets)
	clear(p.aliases[:cap(p.aliases)])
	*p = parser{toks: toks, reads: p.reads[:0], writes: p.writes[:0],
		targets: p.targets[:0], aliases: p.aliases[:0]}
}

func (p *parser) analyze() Analysis {
	statements, queries := 0, 0
	for p.peek().Kind != EOF {
		if p.peek().Kind == Semicolon {
			p.adv(1)
			continue
		}
		statements++
		p.impure = false
		if p.statement() && !p.impure {
			queries++
		}
		if k := p.peek().Kind; k != Semicolon && k != EOF { // an unbalanced ) or ]
			p.unknown = true
			for k := p.peek().Kind; k != Semicolon && k != EOF; k = p.peek().Kind {
				p.adv(1)
			}
		}
	}
	a := Analysis{
		Reads:   clone(p.reads),
		Writes:  clone(p.writes),
		Locking: p.locking,
		Unknown: p.unknown,
		DDL:     p.ddl,
	}
	a.Harmless = !a.Unknown && len(a.Writes) == 0
	a.ReadOnly = a.Harmless && statements > 0 && queries == statements
	a.Volatile = a.ReadOnly && (p.catalogueRead || nondeterministic(p.toks))
	return a
}

func clone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}

func (p *parser) peek() *Token { return &p.toks[p.i] }

func (p *parser) at(n int) *Token {
	if j := p.i + n; j < len(p.toks) {
		return &p.toks[j]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) prev(n int) *Token {
	if j := p.i - n; j >= 0 {
		return &p.toks[j]
	}
	return &eof
}

// adv moves n tokens on, never past EOF.
func (p *parser) adv(n int) { p.i = min(p.i+n, len(p.toks)-1) }

// ended reports whether t ends the statement or group being read.
func ended(t *Token) bool {
	return t.Kind == EOF || t.Kind == Semicolon || t.Kind == RParen || t.Kind == RBracket
}

func isName(t *Token) bool { return t.Kind == Word || t.Kind == QuotedIdent }

// name reads a possibly qualified name (t, s.t, "s"."t", t.*) and returns
// its normalized last component. ok is false when there is no name, it is
// cut short (s.) or normalize refuses it. It sets p.catalogue to whether the
// name is a system catalogue's.
func (p *parser) name() (n string, ok bool) {
	t := p.peek()
	if !isName(t) {
		return "", false
	}
	last := *t
	p.adv(1)
	p.catalogue = false
	for p.peek().Kind == Dot {
		next := p.at(1)
		if isName(next) {
			if q, ok := normalize(last); ok && catalogueSchema(q) {
				p.catalogue = true
			}
			last = *next
			p.adv(2)
			continue
		}
		if next.Kind == Op && next.Text == "*" {
			p.adv(2)
			break
		}
		return "", false
	}
	n, ok = normalize(last)
	if ok && catalogueTable(n) {
		p.catalogue = true
	}
	return n, ok
}

// normalize returns the name a Word or QuotedIdent stands for, unquoted and
// lowercased. Empty names, names with quote characters inside and U&"..."
// names (whose escapes it does not decode) are refused.
func normalize(t Token) (string, bool) {
	s := t.Text
	if t.Kind == QuotedIdent {
		if s[0] != '"' && s[0] != '`' && s[0] != '[' {
			return "", false
		}
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '`' || c == '[' || c == ']' {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

func (p *parser) read(n string)  { p.reads = appendNew(p.reads, n) }
func (p *parser) write(n string) { p.writes = appendNew(p.writes, n) }

func appendNew(list []string, n string) []string {
	for _, s := range list {
		if s == n {
			return list
		}
	}
	return append(list, n)
}

// writeName reads a name and writes it, or records Unknown.
func (p *parser) writeName() bool {
	n, ok := p.name()
	if !ok {
		p.unknown = true
		return false
	}
	p.write(n)
	return true
}

// enter descends one level of nesting, or skips the rest of the level and
// records Unknown when the input nests too deep.
func (p *parser) enter() bool {
	if p.depth >= maxDepth {
		p.unknown = true
		p.skip(false)
		return false
	}
	p.depth++
	return true
}

func (p *parser) leave() { p.depth-- }

// skip moves to the end of the statement or group, past balanced
// parentheses. With scan, a data-changing verb on the way is Unknown.
func (p *parser) skip(scan bool) {
	depth := 0
	for {
		t := p.peek()
		switch t.Kind {
		case EOF, Semicolon:
			return
		case LParen, LBracket:
			depth++
		case RParen, RBracket:
			if depth == 0 {
				return
			}
			depth--
		case Word:
			if scan && (isVerb(t.Keyword) || isScriptVerb(t.Keyword)) && p.at(1).Kind != LParen &&
				p.prev(1).Kind != Dot && p.at(1).Kind != Dot {
				p.unknown = true
			}
		}
		p.adv(1)
	}
}

// isScriptVerb reports the other words that run or change something when
// they start a statement.
func isScriptVerb(k Keyword) bool {
	switch k {
	case KwDo, KwCopy, KwLoad, KwReplace, KwRename, KwRefresh, KwGrant, KwRevoke:
		return true
	}
	return false
}
