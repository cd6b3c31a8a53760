package sqlscan

// scope is what walk knows about the nesting level it reads.
type scope struct {
	// query: FROM starts a list of table references here. True at the top
	// of a statement, in parentheses that start with SELECT, VALUES or
	// TABLE, and once SELECT has been seen, as in ((SELECT 1) UNION SELECT
	// a FROM t). Elsewhere, as in EXTRACT(YEAR FROM d), FROM names no table.
	query bool
	// from: in a FROM, JOIN or USING list, where a comma starts another
	// table reference.
	from bool
	// expect: the next token is a table reference.
	expect bool
	// alias: a table reference just ended; a bare word names it.
	alias bool
	// on: in a join's ON condition.
	on bool
	// cases counts the CASE expressions open, whose WHEN is not MERGE's.
	cases int
	// write: table references are written: the targets of UPDATE and DELETE.
	// walk returns where they end.
	write bool
	// aliases: record the aliases table references get, for resolve.
	aliases bool
	// alter: ALTER TABLE, where ALTER and DROP are clauses and RENAME TO,
	// INHERIT, ATTACH/DETACH PARTITION and EXCHANGE ... WITH TABLE name
	// tables whose rows change.
	alter bool
	// last is the table the current reference names, "" for a subquery.
	last string
}

// end leaves the FROM list.
func (s *scope) end() { s.from, s.expect, s.alias, s.on = false, false, false, false }

// next expects another table reference in the FROM list.
func (s *scope) next() { s.from, s.expect, s.on = true, true, false }

// walk reads the tokens of one nesting level up to the ; or ) that ends it,
// recording the tables referenced on it and descending into parentheses.
func (p *parser) walk(s scope) {
	for {
		t := p.peek()
		if ended(t) {
			if s.expect { // FROM, JOIN or a comma with no table after it
				p.unknown = true
			}
			return
		}
		if s.expect {
			p.tableRef(&s)
			continue
		}
		if s.alias {
			s.alias = false
			if p.alias(&s) {
				continue
			}
		}
		switch t.Kind {
		case LParen:
			p.group(false)
			continue
		case LBracket:
			p.bracket()
			continue
		case Comma:
			if s.from {
				s.next()
			}
		case Word:
			if s.write && endsTargets(t.Keyword, p.at(1), s.on) && !p.distinctFrom() {
				return
			}
			if p.keyword(&s) {
				continue
			}
		}
		p.adv(1)
	}
}

// keyword acts on the word at p.i and reports whether it moved past it.
func (p *parser) keyword(s *scope) bool {
	t := p.peek()
	if t.Keyword == KwNone || p.prev(1).Kind == Dot || p.at(1).Kind == Dot { // t.update, update.t
		return false
	}
	switch k := t.Keyword; {
	case k == KwSelect:
		s.query = true
	case k == KwFrom:
		if s.query && !p.distinctFrom() {
			s.next()
		}
	case k == KwJoin:
		s.next()
	case k == KwStraightJoin:
		if s.from {
			s.next()
		}
	case k == KwApply: // SQL Server: CROSS APPLY, OUTER APPLY
		if pk := p.prev(1).Keyword; pk == KwCross || pk == KwOuter {
			s.next()
		}
	case k == KwUsing: // DELETE ... USING t, MERGE ... USING t; not JOIN ... USING (c)
		if s.query && isName(p.at(1)) {
			s.next()
		}
	case k == KwTable:
		return p.tableQuery(s)
	case endsFromList(k):
		s.end()
	case mayEndFromList(k):
		if !s.on {
			s.end()
		}
	case k == KwGroup || k == KwOrder:
		if p.at(1).Keyword == KwBy {
			s.end()
		}
	case k == KwOn:
		if p.onConflict() {
			s.end()
		} else if s.from {
			s.on = true
		}
	case k == KwCase:
		s.cases++
	case k == KwEnd:
		if s.cases > 0 {
			s.cases--
		}
	case k == KwWhen: // MERGE: WHEN [NOT] MATCHED, not CASE WHEN matched
		if nk := p.at(1).Keyword; s.cases == 0 && (nk == KwMatched || nk == KwNot && p.at(2).Keyword == KwMatched) {
			s.end()
		}
	case k == KwFor:
		return p.forClause(s)
	case k == KwLock: // MySQL: LOCK IN SHARE MODE
		if p.at(1).Keyword == KwIn && p.at(2).Keyword == KwShare {
			p.locking, p.impure = true, true
			s.end()
			p.adv(3)
			return true
		}
	case k == KwInto:
		p.into(s)
		return true
	case s.alter && (k == KwRename || k == KwInherit || k == KwPartition):
		return p.alterTarget()
	case isVerb(k):
		p.strayVerb(s)
	}
	return false
}

// onConflict reports whether the ON at p.i starts INSERT's ON CONFLICT
// (target) | DO | ON CONSTRAINT, or ON DUPLICATE KEY UPDATE, rather than a
// join condition on a column of that name.
func (p *parser) onConflict() bool {
	switch p.at(1).Keyword {
	case KwConflict:
		next := p.at(2)
		return next.Kind == LParen || next.Keyword == KwDo || next.Keyword == KwOn || next.Keyword == KwWhere
	case KwDuplicate:
		return p.at(2).Keyword == KwKey
	}
	return false
}

// distinctFrom reports whether the FROM at p.i belongs to IS [NOT] DISTINCT
// FROM.
func (p *parser) distinctFrom() bool {
	if p.prev(1).Keyword != KwDistinct {
		return false
	}
	k := p.prev(2).Keyword
	return k == KwIs || k == KwNot
}

// strayVerb handles a data-changing verb inside another statement. Only
// these are expected: ON DELETE / ON UPDATE (foreign keys, MySQL ON UPDATE
// CURRENT_TIMESTAMP), ON COMMIT DROP, DO UPDATE (ON CONFLICT), KEY UPDATE (ON
// DUPLICATE KEY), THEN UPDATE / DELETE / INSERT (MERGE), AS update (an
// alias), INSERT(...) and TRUNCATE(...) (MySQL functions) and, in ALTER
// TABLE, ALTER COLUMN and DROP COLUMN. Anything else is Unknown.
func (p *parser) strayVerb(s *scope) {
	k := p.peek().Keyword
	if p.at(1).Kind == LParen || s.alter && (k == KwAlter || k == KwDrop) {
		return
	}
	switch p.prev(1).Keyword {
	case KwOn, KwCommit, KwDo, KwKey, KwThen, KwAs:
		return
	}
	p.unknown = true
}

// tableRef reads the table reference at p.i: a possibly qualified name, a
// parenthesized subquery or join, or a function call, after ONLY, LATERAL or
// ROWS FROM.
func (p *parser) tableRef(s *scope) {
	s.expect = false
	t := p.peek()
	switch t.Kind {
	case Word:
		switch {
		case t.Keyword == KwOnly || t.Keyword == KwLateral:
			p.adv(1)
			s.expect = true
			return
		case t.Keyword == KwRows && p.at(1).Keyword == KwFrom:
			p.adv(2)
			s.expect = true
			return
		}
	case QuotedIdent:
	case LParen:
		if s.write { // UPDATE (SELECT ...) SET
			p.unknown = true
		}
		p.group(true)
		s.alias, s.last = true, ""
		return
	default: // a placeholder, a literal or nothing where a table belongs
		p.unknown = true
		return
	}
	n, ok := p.name()
	if p.peek().Kind == LParen && !p.hinted() { // a function: FROM generate_series(1, 3) g
		if s.write {
			p.unknown = true
		}
		p.group(false)
		s.alias, s.last = true, ""
		return
	}
	if !ok {
		p.unknown = true
		return
	}
	if s.write {
		p.write(n)
		p.targets = append(p.targets, n)
	} else {
		p.read(n)
		p.catalogueRead = p.catalogueRead || p.catalogue
	}
	if t := p.peek(); t.Kind == Op && t.Text == "*" { // PostgreSQL: FROM t * (with descendants)
		p.adv(1)
	}
	s.alias, s.last = true, n
}

// hinted reports whether the ( at p.i opens SQL Server table hints rather
// than a function's arguments: FROM t (NOLOCK).
func (p *parser) hinted() bool {
	hint, _ := tableHint(p.at(1))
	return hint
}

// alias reads the alias at p.i, if there is one: AS x, "x" or a word that
// cannot go on with the statement.
func (p *parser) alias(s *scope) bool {
	t := p.peek()
	switch {
	case t.Keyword == KwAs:
		p.adv(1)
		if t := p.peek(); isName(t) || t.Kind == String {
			p.recordAlias(s, t)
			p.adv(1)
		}
		return true
	case t.Kind == QuotedIdent:
	case t.Kind == Word && !nonAlias(t.Keyword, s.write) && !(t.Keyword == KwLock && p.at(1).Keyword == KwIn):
	default:
		return false
	}
	p.recordAlias(s, t)
	p.adv(1)
	return true
}

func (p *parser) recordAlias(s *scope, t *Token) {
	if !s.aliases || s.last == "" || t.Kind == String {
		return
	}
	if n, ok := normalize(*t); ok {
		p.aliases = append(p.aliases, alias{n, s.last})
	}
}

// group reads a parenthesized group at p.i. Its first token tells a query
// from a nested statement from an expression; in a table reference's place
// (from), anything else is a parenthesized join: FROM (a JOIN b ON ...).
func (p *parser) group(from bool) {
	p.adv(1)
	if p.enter() {
		t := p.peek()
		switch {
		case isQueryStart(t.Keyword):
			p.walk(scope{query: true})
		case t.Keyword == KwWith || isNestedVerb(t.Keyword) && p.at(1).Kind != LParen:
			p.statement()
		case from:
			p.walk(scope{query: true, from: true, expect: true})
		default:
			p.hintLocks()
			p.walk(scope{})
		}
		p.leave()
	}
	p.closeWith(RParen)
}

// hintLocks records a locking read if the group at p.i is a list of SQL
// Server table hints with a locking one: WITH (UPDLOCK, ROWLOCK).
func (p *parser) hintLocks() {
	if hint, _ := tableHint(p.peek()); !hint {
		return
	}
	for j, depth := 0, 0; depth > 0 || !ended(p.at(j)); j++ {
		switch t := p.at(j); t.Kind {
		case EOF, Semicolon:
			return
		case LParen:
			depth++
		case RParen:
			depth--
		default:
			if _, locks := tableHint(t); locks {
				p.locking, p.impure = true, true
			}
		}
	}
}

// bracket reads a [ ... ] subscript at p.i.
func (p *parser) bracket() {
	p.adv(1)
	if p.enter() {
		p.walk(scope{})
		p.leave()
	}
	p.closeWith(RBracket)
}

// closeWith moves past the token that closes a group, which must be of kind
// k.
func (p *parser) closeWith(k Kind) {
	if p.peek().Kind == k {
		p.adv(1)
		return
	}
	p.unknown = true
}

// tableQuery reads TABLE [ONLY] t, a query reading t (INSERT INTO a TABLE
// b, SELECT ... UNION TABLE t). In ALTER TABLE, EXCHANGE PARTITION p WITH
// TABLE t writes t.
func (p *parser) tableQuery(s *scope) bool {
	j := 1
	if p.at(1).Keyword == KwOnly {
		j = 2
	}
	if !isName(p.at(j)) {
		return false
	}
	write := s.alter && p.prev(1).Keyword == KwWith
	p.adv(j)
	n, ok := p.name()
	switch {
	case !ok:
		p.unknown = true
	case write:
		p.write(n)
	default:
		p.read(n)
		p.catalogueRead = p.catalogueRead || p.catalogue
	}
	return true
}

// alterTarget reads RENAME [TO | AS] t, [NO] INHERIT t and ATTACH | DETACH
// PARTITION t in ALTER TABLE.
func (p *parser) alterTarget() bool {
	j := 1
	switch p.peek().Keyword {
	case KwRename:
		switch p.at(1).Keyword {
		case KwTo, KwAs:
			j = 2
		case KwColumn, KwIndex, KwKey, KwConstraint:
			return false
		}
	case KwPartition:
		if k := p.prev(1).Keyword; k != KwAttach && k != KwDetach {
			return false
		}
	}
	if !isName(p.at(j)) {
		return false
	}
	p.adv(j)
	p.writeName()
	return true
}

// forClause reads a FOR at p.i: a locking clause, or FOR JOIN / ORDER BY /
// GROUP BY in a MySQL index hint.
func (p *parser) forClause(s *scope) bool {
	n := 0
	switch p.at(1).Keyword {
	case KwUpdate, KwShare:
		n = 2
	case KwNo:
		if p.at(2).Keyword == KwKey && p.at(3).Keyword == KwUpdate {
			n = 4
		}
	case KwKey:
		if p.at(2).Keyword == KwShare {
			n = 3
		}
	}
	if n > 0 {
		p.locking, p.impure = true, true
		s.end()
		p.adv(n)
		return true
	}
	if k := p.prev(1).Keyword; k == KwIndex || k == KwKey {
		switch p.at(1).Keyword {
		case KwJoin:
			p.adv(2)
			return true
		case KwOrder, KwGroup:
			if p.at(2).Keyword == KwBy {
				p.adv(3)
				return true
			}
		}
	}
	return false
}

// into reads SELECT ... INTO: INTO [TEMP | TEMPORARY | UNLOGGED] [TABLE] t
// creates t (PostgreSQL, SQL Server); INTO @var, OUTFILE and DUMPFILE write
// no table (MySQL). Either way the statement is no plain query.
func (p *parser) into(s *scope) {
	p.adv(1)
	p.impure = true
	s.end()
	for {
		k := p.peek().Keyword
		if k != KwTemp && k != KwTemporary && k != KwUnlogged && k != KwTable {
			break
		}
		if next := p.at(1); !isName(next) || next.Keyword == KwFrom || endsFromList(next.Keyword) || next.Keyword == KwFor {
			break // the word is the table's name: SELECT * INTO temp FROM t
		}
		p.adv(1)
	}
	if t := p.peek(); t.Kind == Param || t.Keyword == KwOutfile || t.Keyword == KwDumpfile {
		return
	}
	p.writeName()
}
