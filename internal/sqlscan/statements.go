package sqlscan

import "strings"

// statement reads one statement, up to the ; or the ) that ends it, and
// reports whether it is a query (SELECT, WITH ... SELECT, VALUES, TABLE).
// Writes and Unknown are recorded on p as they are found.
func (p *parser) statement() (query bool) {
	if !p.enter() {
		return false
	}
	defer p.leave()
	t := p.peek()
	if t.Kind == LParen {
		p.walk(scope{query: true})
		return true
	}
	if t.Kind != Word {
		p.unknown = true
		p.skip(false)
		return false
	}
	switch t.Keyword {
	case KwSelect, KwValues, KwTable:
		p.walk(scope{query: true})
		return true
	case KwWith:
		return p.with()
	case KwInsert, KwReplace, KwUpsert:
		p.insert()
	case KwUpdate:
		p.update()
	case KwDelete:
		p.delete()
	case KwMerge:
		p.merge()
	case KwTruncate:
		p.truncate()
	case KwCreate:
		p.create()
	case KwDrop:
		p.drop()
	case KwAlter:
		p.alter()
	case KwRename:
		p.rename()
	case KwRefresh:
		p.refresh()
	case KwExplain, KwDescribe, KwDesc:
		p.explain()
	case KwAnalyze, KwAnalyse:
		p.analyzeStatement()
	case KwShow, KwPrepare, KwVacuum, KwLock, KwUnlock, KwPragma:
		// Harmless, and what follows may name verbs: SHOW CREATE TABLE,
		// PREPARE p AS DELETE ..., LOCK TABLE t IN SHARE UPDATE EXCLUSIVE
		// MODE, PRAGMA journal_mode = DELETE. None of them is SQL Server's.
		p.adv(1)
		p.skip(false)
	case KwCommit:
		if p.at(1).Keyword == KwPrepared { // PostgreSQL two-phase commit: another transaction's writes
			p.unknown = true
			p.skip(false)
			return false
		}
		p.adv(1)
		p.skip(true)
	case KwBegin, KwStart, KwEnd, KwRollback, KwAbort, KwSavepoint, KwRelease, KwSet,
		KwReset, KwListen, KwUnlisten, KwNotify, KwDeallocate, KwDiscard, KwCheckpoint:
		// Harmless unless a verb follows: SQL Server runs BEGIN DELETE ...
		// END, and needs no ; between statements.
		p.adv(1)
		p.skip(true)
	default:
		p.unknown = true
		p.skip(false)
	}
	return false
}

// with reads WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (body),
// ... and the statement they lead to. A body may be a data-modifying
// statement; group reads it as one.
func (p *parser) with() bool {
	p.adv(1)
	if p.peek().Keyword == KwRecursive {
		p.adv(1)
	}
	for {
		if !isName(p.peek()) {
			break
		}
		p.adv(1)
		if p.peek().Kind == LParen {
			p.group(false)
		}
		if p.peek().Keyword != KwAs {
			break
		}
		p.adv(1)
		if p.peek().Keyword == KwNot {
			p.adv(1)
		}
		if p.peek().Keyword == KwMaterialized {
			p.adv(1)
		}
		if p.peek().Kind != LParen {
			break
		}
		p.group(false)
		if k := p.peek().Keyword; k == KwSearch || k == KwCycle {
			for t := p.peek(); !ended(t) && t.Kind != Comma && t.Kind != LParen && !isStatementStart(t.Keyword); t = p.peek() {
				p.adv(1)
			}
		}
		if p.peek().Kind != Comma {
			return p.statement()
		}
		p.adv(1)
	}
	p.unknown = true
	p.skip(false)
	return false
}

// insert reads INSERT [modifiers] [INTO] t ..., REPLACE INTO t ... and UPSERT
// INTO t ....
func (p *parser) insert() {
	p.adv(1)
modifiers:
	for {
		switch p.peek().Keyword {
		case KwLowPriority, KwDelayed, KwHighPriority, KwIgnore:
			p.adv(1)
		case KwOr: // SQLite: INSERT OR REPLACE
			p.adv(1)
			p.skipWord()
		case KwInto:
			p.adv(1)
			break modifiers
		default:
			break modifiers
		}
	}
	if !p.writeName() {
		p.skip(false)
		return
	}
	p.walk(scope{query: true})
}

// update reads UPDATE [modifiers] [ONLY] targets SET ... [FROM ...]. Every
// table before SET is written (MySQL: UPDATE a JOIN b ON ... SET).
func (p *parser) update() {
	p.adv(1)
	for {
		switch p.peek().Keyword {
		case KwLowPriority, KwIgnore:
			p.adv(1)
			continue
		case KwOr: // SQLite: UPDATE OR IGNORE
			p.adv(1)
			p.skipWord()
			continue
		}
		break
	}
	t0, a0 := len(p.targets), len(p.aliases)
	p.walk(scope{query: true, from: true, expect: true, write: true})
	if p.peek().Keyword != KwSet {
		p.unknown = true
	}
	p.walk(scope{query: true, aliases: true})
	p.resolve(t0, a0)
}

// delete reads DELETE [modifiers] [FROM] targets [FROM | USING ...]. The
// targets before a second FROM or USING may be aliases defined there (MySQL
// DELETE a FROM photos a JOIN ..., SQL Server likewise).
func (p *parser) delete() {
	p.adv(1)
	for k := p.peek().Keyword; k == KwLowPriority || k == KwQuick || k == KwIgnore; k = p.peek().Keyword {
		p.adv(1)
	}
	if t := p.peek(); t.Kind == Word && strings.EqualFold(t.Text, "history") && p.at(1).Keyword == KwFrom {
		p.adv(1) // MariaDB: DELETE HISTORY FROM t deletes the history of t
	}
	if p.peek().Keyword == KwFrom {
		p.adv(1)
	}
	t0, a0 := len(p.targets), len(p.aliases)
	p.walk(scope{query: true, from: true, expect: true, write: true})
	p.walk(scope{query: true, aliases: true})
	p.resolve(t0, a0)
}

// skipWord moves past the current token if it is a word.
func (p *parser) skipWord() {
	if p.peek().Kind == Word {
		p.adv(1)
	}
}

// resolve writes the tables behind the targets since t0 that are aliases
// defined since a0, then forgets both.
func (p *parser) resolve(t0, a0 int) {
	for _, t := range p.targets[t0:] {
		for _, a := range p.aliases[a0:] {
			if a.name == t {
				p.write(a.table)
			}
		}
	}
	p.targets, p.aliases = p.targets[:t0], p.aliases[:a0]
}

// merge reads MERGE [INTO] [ONLY] t ... USING source ON ... WHEN ....
func (p *parser) merge() {
	p.adv(1)
	if p.peek().Keyword == KwInto {
		p.adv(1)
	}
	if p.peek().Keyword == KwOnly {
		p.adv(1)
	}
	if !p.writeName() {
		p.skip(false)
		return
	}
	p.walk(scope{query: true})
}

// truncate reads TRUNCATE [TABLE] [ONLY] t [*] [, ...]. CASCADE empties
// tables it does not name: Unknown.
func (p *parser) truncate() {
	p.adv(1)
	if p.peek().Keyword == KwTable {
		p.adv(1)
	}
	for {
		if p.peek().Keyword == KwOnly {
			p.adv(1)
		}
		if !p.writeName() {
			p.skip(false)
			return
		}
		if t := p.peek(); t.Kind == Op && t.Text == "*" {
			p.adv(1)
		}
		if p.peek().Kind != Comma {
			break
		}
		p.adv(1)
	}
	rest := p.i
	p.skip(true)
	for _, t := range p.toks[rest:p.i] {
		if t.Keyword == KwCascade {
			p.unknown = true
		}
	}
}

// create reads CREATE [modifiers] TABLE | VIEW | MATERIALIZED VIEW name,
// which writes name (a new or replaced relation changes what reads of it
// return), and CREATE INDEX, which changes no data. Anything else (FUNCTION,
// TRIGGER, RULE, POLICY, ...) can change what later statements do: Unknown.
func (p *parser) create() {
	p.adv(1)
modifiers:
	for {
		switch p.peek().Keyword {
		case KwOr: // OR REPLACE
			p.adv(1)
			p.skipWord()
		case KwGlobal, KwLocal, KwTemp, KwTemporary, KwUnlogged, KwUnique, KwFulltext,
			KwSpatial, KwVirtual, KwRecursive:
			p.adv(1)
		case KwAlgorithm: // MySQL views: ALGORITHM = MERGE
			p.adv(1)
			if t := p.peek(); t.Kind == Op && t.Text == "=" {
				p.adv(1)
			}
			p.skipWord()
		case KwSQL: // SQL SECURITY DEFINER
			p.adv(1)
			p.skipWord()
			p.skipWord()
		case KwDefiner: // DEFINER = user@host
			p.adv(1)
			for t := p.peek(); !ended(t) && t.Keyword != KwSQL && t.Keyword != KwView; t = p.peek() {
				p.adv(1)
			}
		default:
			break modifiers
		}
	}
	if !p.relationKind() {
		return
	}
	p.ddl = true
	if p.peek().Keyword == KwIf && p.at(1).Keyword == KwNot && p.at(2).Keyword == KwExists {
		p.adv(3)
	}
	if !p.writeName() {
		p.skip(false)
		return
	}
	p.walk(scope{query: true})
}

// relationKind reads TABLE, VIEW or MATERIALIZED VIEW and reports true; it
// skips an INDEX statement, which changes no data, and marks anything else
// Unknown, reporting false for both.
func (p *parser) relationKind() bool {
	switch p.peek().Keyword {
	case KwTable, KwView:
		p.adv(1)
		return true
	case KwMaterialized:
		if p.at(1).Keyword == KwView {
			p.adv(2)
			return true
		}
	case KwIndex:
		p.skip(true)
		return false
	}
	p.unknown = true
	p.skip(false)
	return false
}

// drop reads DROP [TEMPORARY] TABLE | VIEW | MATERIALIZED VIEW [IF EXISTS]
// a [, b], and DROP INDEX, which changes no data.
func (p *parser) drop() {
	p.adv(1)
	if p.peek().Keyword == KwTemporary {
		p.adv(1)
	}
	if !p.relationKind() {
		return
	}
	p.ddl = true
	if p.peek().Keyword == KwIf && p.at(1).Keyword == KwExists {
		p.adv(2)
	}
	p.nameList()
}

// nameList writes the names of a comma-separated list and skips the rest of
// the statement.
func (p *parser) nameList() {
	for p.writeName() && p.peek().Kind == Comma {
		p.adv(1)
	}
	p.skip(true)
}

// alter reads ALTER TABLE [IF EXISTS] [ONLY] t ... and ALTER [MATERIALIZED]
// VIEW v .... Tables renamed to, inherited from or attached are written too.
func (p *parser) alter() {
	p.adv(1)
	p.ddl = true
	for k := p.peek().Keyword; k == KwOnline || k == KwIgnore; k = p.peek().Keyword {
		p.adv(1)
	}
	s := scope{alter: true}
	switch p.peek().Keyword {
	case KwTable:
		p.adv(1)
	case KwView:
		p.adv(1)
		s = scope{query: true}
	case KwMaterialized:
		if p.at(1).Keyword != KwView {
			p.unknown = true
			p.skip(false)
			return
		}
		p.adv(2)
	default:
		p.unknown = true
		p.skip(false)
		return
	}
	if p.peek().Keyword == KwIf && p.at(1).Keyword == KwExists {
		p.adv(2)
	}
	if p.peek().Keyword == KwOnly {
		p.adv(1)
	}
	if !p.writeName() {
		p.skip(false)
		return
	}
	if t := p.peek(); t.Kind == Op && t.Text == "*" {
		p.adv(1)
	}
	p.walk(s)
}

// rename reads MySQL's RENAME TABLE a TO b [, c TO d].
func (p *parser) rename() {
	p.adv(1)
	p.ddl = true
	if p.peek().Keyword != KwTable {
		p.unknown = true
		p.skip(false)
		return
	}
	p.adv(1)
	for p.writeName() {
		if p.peek().Keyword == KwTo || p.peek().Kind == Comma {
			p.adv(1)
			continue
		}
		break
	}
	p.skip(true)
}

// refresh reads REFRESH MATERIALIZED VIEW [CONCURRENTLY] v.
func (p *parser) refresh() {
	p.adv(1)
	if p.peek().Keyword != KwMaterialized || p.at(1).Keyword != KwView {
		p.unknown = true
		p.skip(false)
		return
	}
	p.adv(2)
	if p.peek().Keyword == KwConcurrently {
		p.adv(1)
	}
	p.writeName()
	p.skip(true)
}

// analyzeStatement reads ANALYZE: of tables, harmless whatever follows
// (ANALYZE TABLE t UPDATE HISTOGRAM), or MariaDB's ANALYZE [FORMAT=JSON]
// statement, which runs the statement, as EXPLAIN ANALYZE does.
func (p *parser) analyzeStatement() {
	p.adv(1)
	if t := p.peek(); t.Kind == Word && strings.EqualFold(t.Text, "format") && p.at(1).Text == "=" {
		p.adv(3)
	}
	switch p.peek().Keyword {
	case KwSelect, KwWith, KwInsert, KwReplace, KwUpdate, KwDelete:
		p.statement()
		return
	}
	p.skip(false)
}

// explain reads EXPLAIN, DESCRIBE and DESC. Without ANALYZE they only plan:
// harmless. EXPLAIN ANALYZE runs its statement, which is then read as if it
// stood alone (but is no plain query).
func (p *parser) explain() {
	p.adv(1)
	analyze := false
	if p.peek().Kind == LParen { // PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) ...
		for p.adv(1); !ended(p.peek()); p.adv(1) {
			if k := p.peek().Keyword; k == KwAnalyze || k == KwAnalyse {
				analyze = true
			}
		}
		if p.peek().Kind == RParen {
			p.adv(1)
		}
	}
	for t := p.peek(); !ended(t) && t.Kind != LParen && !isStatementStart(t.Keyword); t = p.peek() {
		if t.Keyword == KwAnalyze || t.Keyword == KwAnalyse {
			analyze = true
		}
		p.adv(1)
	}
	if !analyze {
		p.skip(false)
		return
	}
	if ended(p.peek()) {
		p.unknown = true
		return
	}
	p.statement()
}
