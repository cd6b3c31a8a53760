package sqlscan

import "strings"

// RoutineWrites returns the tables the statements of a routine's body
// write: a trigger's, as PostgreSQL keeps it (PL/pgSQL or SQL), as MySQL
// does (one statement, or a BEGIN ... END block), or SQLite's whole CREATE
// TRIGGER statement, whose body follows its first BEGIN. Each statement
// that starts with a verb that writes is analysed to the ; that ends it;
// the control flow around the statements (IF ... THEN, ELSE, LOOP, WHILE
// ... DO, BEGIN ... END, assignments, RETURN) writes nothing.
//
// ok is false when the body runs SQL whose tables cannot be told from it:
// dynamic SQL (EXECUTE, PREPARE), a procedure it calls (CALL), a statement
// that writes which Analyze cannot read, or a body the lexer cannot read.
// The functions its expressions call are not followed, as they are not in
// the SQL an application runs (see the package documentation of gormcache
// on stored functions).
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
		// SQLite's CREATE TRIGGER: its header names the events (UPDATE OF
		// a ON t) and runs nothing up to the BEGIN of its body.
		for depth := 0; toks[i].Kind != EOF && (depth > 0 || toks[i].Keyword != KwBegin); i++ {
			depth += nesting(toks[i])
		}
	}
	start, depth := true, 0
	for ; toks[i].Kind != EOF; i++ {
		t := toks[i]
		depth += nesting(t)
		if t.Kind == Semicolon {
			start = true
			continue
		}
		atStart := start
		start = depth == 0 && opensStatements(t)
		if !atStart || t.Kind != Word {
			continue
		}
		switch t.Keyword {
		case KwExecute, KwExec, KwPrepare, KwCall:
			return nil, false
		case KwInsert, KwReplace, KwUpsert, KwUpdate, KwDelete, KwMerge, KwTruncate, KwWith:
			end := statementEnd(toks, i)
			a := Analyze(body[t.Pos:toks[end].Pos])
			if a.Unknown {
				return nil, false
			}
			writes = append(writes, a.Writes...)
			i = end - 1
		}
	}
	return writes, true
}

// nesting returns how t changes the depth of parentheses.
func nesting(t Token) int {
	switch t.Kind {
	case LParen:
		return 1
	case RParen:
		return -1
	}
	return 0
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

// statementEnd returns the index of the ; that ends the statement starting
// at toks[i], or of the EOF.
func statementEnd(toks []Token, i int) int {
	for depth := 0; toks[i].Kind != EOF; i++ {
		depth += nesting(toks[i])
		if depth <= 0 && toks[i].Kind == Semicolon {
			return i
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
