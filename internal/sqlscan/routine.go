package sqlscan

import "strings"

// RoutineWrites returns the tables the statements of a routine's body
// write: a trigger's, as PostgreSQL keeps it (PL/pgSQL or SQL), as MySQL
// does (one statement, or a BEGIN ... END block), SQLite's whole CREATE
// TRIGGER statement, or PostgreSQL's CREATE RULE (pg_get_ruledef). Each
// verb that writes (INSERT, UPDATE, DELETE, MERGE, REPLACE, TRUNCATE,
// REFRESH...) is analysed to the end of its statement wherever it stands:
// after ; or a block's BEGIN, a branch's THEN, a handler's condition, FOR
// ... IN; and so is a WITH that begins a statement. The verbs of clauses
// (FOR UPDATE, ON DELETE, BEFORE INSERT, UPDATE OF) and functions
// (REPLACE(...), INSERT(...)) write nothing.
//
// ok is false when the body runs SQL whose tables cannot be told from it:
// dynamic SQL (EXECUTE, PREPARE, a DO block), a procedure it calls (CALL),
// DDL, a statement that writes which Analyze cannot read, or a body the
// lexer cannot read. The functions its expressions call are not followed,
// as they are not in the SQL an application runs (see the package
// documentation of gormcache on stored functions).
func RoutineWrites(body string) (writes []string, ok bool) {
	var toks []Token
	for l := NewLexer(body); ; {
		t := l.Next()
		if t.Kind == Invalid {
			return nil, false
		}
		toks = append(toks, t)
		if t.Kind == EOF {
			break
		}
	}
	i := 0
	if toks[0].Keyword == KwCreate {
		// CREATE TRIGGER or CREATE RULE: the header names the events
		// (AFTER UPDATE OF a ON t, ON INSERT TO t) and runs nothing.
		i = 1
	}
	start := true
	for ; toks[i].Kind != EOF; i++ {
		t := toks[i]
		atStart := start
		start = t.Kind == Semicolon || opensStatements(t)
		if t.Kind != Word {
			continue
		}
		switch {
		case t.Keyword == KwExecute || t.Keyword == KwExec || t.Keyword == KwPrepare || t.Keyword == KwCall,
			t.Keyword == KwDo && toks[i+1].Kind == String:
			return nil, false
		case writesVerb(t.Keyword) && !clauseVerb(toks, i), t.Keyword == KwWith && atStart:
			end := statementEnd(toks, i)
			a := Analyze(body[t.Pos:toks[end].Pos])
			if a.Unknown || a.DDL {
				return nil, false
			}
			writes = append(writes, a.Writes...)
			i = end - 1
		}
	}
	return writes, true
}

// writesVerb reports whether a statement that begins with k may write:
// change rows, or (DDL) the catalogue.
func writesVerb(k Keyword) bool {
	switch k {
	case KwInsert, KwReplace, KwUpsert, KwUpdate, KwDelete, KwMerge, KwTruncate, KwRefresh, KwCopy,
		KwCreate, KwAlter, KwDrop, KwRename:
		return true
	}
	return false
}

// clauseVerb reports whether the verb toks[i] is a clause's or a
// function's rather than a statement's: FOR UPDATE, FOR NO KEY UPDATE,
// ON DELETE, ON UPDATE, SHARE UPDATE EXCLUSIVE, a trigger's BEFORE INSERT
// or INSTEAD OF DELETE, and MySQL's REPLACE(...), INSERT(...) and
// TRUNCATE(...) functions.
func clauseVerb(toks []Token, i int) bool {
	if toks[i+1].Kind == LParen {
		return true
	}
	if i == 0 {
		return false
	}
	prev := toks[i-1]
	switch prev.Keyword {
	case KwFor, KwOn, KwKey, KwShare:
		return true
	}
	for _, w := range [...]string{"OF", "BEFORE", "AFTER"} {
		if strings.EqualFold(prev.Text, w) {
			return true
		}
	}
	return false
}

// opensStatements reports whether a statement may follow t in a routine's
// body: t begins a block, a branch or a loop's body.
func opensStatements(t Token) bool {
	if t.Kind != Word {
		return false
	}
	switch t.Keyword {
	case KwBegin, KwThen, KwDo:
		return true
	}
	for _, w := range [...]string{"ELSE", "LOOP", "REPEAT"} {
		if strings.EqualFold(t.Text, w) {
			return true
		}
	}
	return false
}

// statementEnd returns the index of the token that ends the statement
// starting at toks[i]: the ; after it, the ) that closes the parentheses
// around it, or the EOF.
func statementEnd(toks []Token, i int) int {
	for depth := 0; toks[i].Kind != EOF; i++ {
		switch toks[i].Kind {
		case LParen:
			depth++
		case RParen:
			if depth--; depth < 0 {
				return i
			}
		case Semicolon:
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// TriggerEvent returns the event of a CREATE TRIGGER statement, as SQLite
// keeps it: INSERT, UPDATE or DELETE, upper-cased; "" when its header
// names none of them.
func TriggerEvent(createTrigger string) string {
	for l := NewLexer(createTrigger); ; {
		t := l.Next()
		switch {
		case t.Kind == EOF || t.Kind == Invalid || t.Keyword == KwOn || t.Keyword == KwBegin:
			return ""
		case t.Keyword == KwInsert || t.Keyword == KwUpdate || t.Keyword == KwDelete:
			return strings.ToUpper(t.Text)
		}
	}
}
