package sqlscan

// Keyword identifies a keyword that the analyzer or the condition parser
// (internal/depscan) acts on; KwNone is any other word. This is the one
// keyword table of the module: the Lexer classifies every Word with it.
type Keyword uint8

// The keywords, in three groups whose order Reserved and analyzed rely on:
// the words only conditions act on, those both act on, and those only the
// analyzer acts on. Within a group they are sorted.
const (
	KwNone Keyword = iota

	// Only conditions act on these: the analyzer passes over them.
	KwAnd
	KwBetween
	KwFalse
	KwNull
	KwTrue
	KwXor
	KwValueWord // any other value or operator word: CURRENT_DATE, DEFAULT, CAST, LIKE, DIV, ELSE...

	// Both act on these: from firstAnalyzed.
	KwAs
	KwCase
	KwCross
	KwDistinct
	KwEnd
	KwExcept
	KwExists
	KwFetch
	KwFor
	KwForce
	KwFrom
	KwFull
	KwGroup
	KwHaving
	KwIgnore
	KwIn
	KwIndexed
	KwInner
	KwIntersect
	KwIs
	KwJoin
	KwLateral
	KwLeft
	KwLimit
	KwLock
	KwNatural
	KwNot
	KwOffset
	KwOn
	KwOnly
	KwOr
	KwOrder
	KwOuter
	KwPartition
	KwReturning
	KwRight
	KwSelect
	KwStraightJoin
	KwTable
	KwTablesample
	KwThen
	KwUnion
	KwUnique
	KwUse
	KwUsing
	KwValues
	KwWhen
	KwWhere
	KwWindow
	KwWith

	// Only the analyzer acts on these; a condition reads them as names (a
	// column may be called key or rows): from firstUnreserved.
	KwAbort
	KwAlgorithm
	KwAlter
	KwAnalyse
	KwAnalyze
	KwApply
	KwAttach
	KwBegin
	KwBy
	KwCall
	KwCascade
	KwCheckpoint
	KwColumn
	KwCommit
	KwConcurrently
	KwConflict
	KwConstraint
	KwCopy
	KwCreate
	KwCycle
	KwDeallocate
	KwDefiner
	KwDelayed
	KwDelete
	KwDesc
	KwDescribe
	KwDetach
	KwDiscard
	KwDo
	KwDrop
	KwDumpfile
	KwDuplicate
	KwExec
	KwExecute
	KwExplain
	KwFulltext
	KwGlobal
	KwGrant
	KwHighPriority
	KwIf
	KwIndex
	KwInherit
	KwInsert
	KwInto
	KwKey
	KwListen
	KwLoad
	KwLocal
	KwLowPriority
	KwMatched
	KwMaterialized
	KwMerge
	KwMinus
	KwNo
	KwNotify
	KwOnline
	KwOutfile
	KwOutput
	KwPragma
	KwPrepare
	KwPrepared
	KwQualify
	KwQuick
	KwRecursive
	KwRefresh
	KwRelease
	KwRename
	KwReplace
	KwReset
	KwRevoke
	KwRollback
	KwRows
	KwSavepoint
	KwSearch
	KwSet
	KwShare
	KwShow
	KwSpatial
	KwSQL
	KwStart
	KwTemp
	KwTemporary
	KwTo
	KwTruncate
	KwUnlisten
	KwUnlock
	KwUnlogged
	KwUpdate
	KwUpsert
	KwVacuum
	KwView
	KwVirtual
)

// The boundaries of the groups of Keyword.
const (
	firstAnalyzed   = KwAs
	firstUnreserved = KwAbort
)

// Reserved reports whether a word of keyword k is, in some dialect read,
// an operator (AND, LIKE, DIV), a value (NULL, TRUE, CURRENT_USER) or a
// word that starts a clause or a join (WHERE, ORDER, JOIN, ON): a
// condition never reads it, unquoted, as a column. The analyzer's other
// keywords (KEY, ROWS, SET...) may name columns there. KwNone is not
// reserved.
func (k Keyword) Reserved() bool { return KwNone < k && k < firstUnreserved }

// analyzed reports whether the analyzer acts on keyword k.
func analyzed(k Keyword) bool { return k >= firstAnalyzed }

// keyword returns the Keyword of an unquoted word, case-insensitively.
func keyword(word string) Keyword {
	const longest = len("current_timestamp")
	if len(word) < 2 || len(word) > longest {
		return KwNone
	}
	var buf [longest]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	// A switch is three times faster than a map here, and allocates no
	// more: the conversion does not escape.
	switch string(buf[:len(word)]) {
	case "abort":
		return KwAbort
	case "algorithm":
		return KwAlgorithm
	case "alter":
		return KwAlter
	case "analyse":
		return KwAnalyse
	case "analyze":
		return KwAnalyze
	case "and":
		return KwAnd
	case "apply":
		return KwApply
	case "as":
		return KwAs
	case "attach":
		return KwAttach
	case "begin":
		return KwBegin
	case "between":
		return KwBetween
	case "by":
		return KwBy
	case "call":
		return KwCall
	case "cascade":
		return KwCascade
	case "case":
		return KwCase
	case "checkpoint":
		return KwCheckpoint
	case "column":
		return KwColumn
	case "commit":
		return KwCommit
	case "concurrently":
		return KwConcurrently
	case "conflict":
		return KwConflict
	case "constraint":
		return KwConstraint
	case "copy":
		return KwCopy
	case "create":
		return KwCreate
	case "cross":
		return KwCross
	case "cycle":
		return KwCycle
	case "deallocate":
		return KwDeallocate
	case "definer":
		return KwDefiner
	case "delayed":
		return KwDelayed
	case "delete":
		return KwDelete
	case "desc":
		return KwDesc
	case "describe":
		return KwDescribe
	case "detach":
		return KwDetach
	case "discard":
		return KwDiscard
	case "distinct":
		return KwDistinct
	case "do":
		return KwDo
	case "drop":
		return KwDrop
	case "dumpfile":
		return KwDumpfile
	case "duplicate":
		return KwDuplicate
	case "end":
		return KwEnd
	case "except":
		return KwExcept
	case "exec":
		return KwExec
	case "execute":
		return KwExecute
	case "exists":
		return KwExists
	case "explain":
		return KwExplain
	case "false":
		return KwFalse
	case "fetch":
		return KwFetch
	case "for":
		return KwFor
	case "force":
		return KwForce
	case "from":
		return KwFrom
	case "full":
		return KwFull
	case "fulltext":
		return KwFulltext
	case "global":
		return KwGlobal
	case "grant":
		return KwGrant
	case "group":
		return KwGroup
	case "having":
		return KwHaving
	case "high_priority":
		return KwHighPriority
	case "if":
		return KwIf
	case "ignore":
		return KwIgnore
	case "in":
		return KwIn
	case "index":
		return KwIndex
	case "indexed":
		return KwIndexed
	case "inherit":
		return KwInherit
	case "inner":
		return KwInner
	case "insert":
		return KwInsert
	case "intersect":
		return KwIntersect
	case "into":
		return KwInto
	case "is":
		return KwIs
	case "join":
		return KwJoin
	case "key":
		return KwKey
	case "lateral":
		return KwLateral
	case "left":
		return KwLeft
	case "limit":
		return KwLimit
	case "listen":
		return KwListen
	case "load":
		return KwLoad
	case "local":
		return KwLocal
	case "lock":
		return KwLock
	case "low_priority":
		return KwLowPriority
	case "matched":
		return KwMatched
	case "materialized":
		return KwMaterialized
	case "merge":
		return KwMerge
	case "minus":
		return KwMinus
	case "natural":
		return KwNatural
	case "no":
		return KwNo
	case "not":
		return KwNot
	case "notify":
		return KwNotify
	case "null":
		return KwNull
	case "offset":
		return KwOffset
	case "on":
		return KwOn
	case "online":
		return KwOnline
	case "only":
		return KwOnly
	case "or":
		return KwOr
	case "order":
		return KwOrder
	case "outer":
		return KwOuter
	case "outfile":
		return KwOutfile
	case "output":
		return KwOutput
	case "partition":
		return KwPartition
	case "pragma":
		return KwPragma
	case "prepare":
		return KwPrepare
	case "prepared":
		return KwPrepared
	case "qualify":
		return KwQualify
	case "quick":
		return KwQuick
	case "recursive":
		return KwRecursive
	case "refresh":
		return KwRefresh
	case "release":
		return KwRelease
	case "rename":
		return KwRename
	case "replace":
		return KwReplace
	case "reset":
		return KwReset
	case "returning":
		return KwReturning
	case "revoke":
		return KwRevoke
	case "right":
		return KwRight
	case "rollback":
		return KwRollback
	case "rows":
		return KwRows
	case "savepoint":
		return KwSavepoint
	case "search":
		return KwSearch
	case "select":
		return KwSelect
	case "set":
		return KwSet
	case "share":
		return KwShare
	case "show":
		return KwShow
	case "spatial":
		return KwSpatial
	case "sql":
		return KwSQL
	case "start":
		return KwStart
	case "straight_join":
		return KwStraightJoin
	case "table":
		return KwTable
	case "tablesample":
		return KwTablesample
	case "temp":
		return KwTemp
	case "temporary":
		return KwTemporary
	case "then":
		return KwThen
	case "to":
		return KwTo
	case "true":
		return KwTrue
	case "truncate":
		return KwTruncate
	case "union":
		return KwUnion
	case "unique":
		return KwUnique
	case "unlisten":
		return KwUnlisten
	case "unlock":
		return KwUnlock
	case "unlogged":
		return KwUnlogged
	case "update":
		return KwUpdate
	case "upsert":
		return KwUpsert
	case "use":
		return KwUse
	case "using":
		return KwUsing
	case "vacuum":
		return KwVacuum
	case "values":
		return KwValues
	case "view":
		return KwView
	case "virtual":
		return KwVirtual
	case "when":
		return KwWhen
	case "where":
		return KwWhere
	case "window":
		return KwWindow
	case "with":
		return KwWith
	case "xor":
		return KwXor
	case "all", "any", "array", "binary", "cast", "collate",
		"current_catalog", "current_date", "current_role", "current_schema",
		"current_time", "current_timestamp", "current_user", "default", "div",
		"else", "escape", "glob", "ilike", "interval", "isnull", "like",
		"localtime", "localtimestamp", "match", "mod", "notnull", "overlaps",
		"raise", "regexp", "row", "session_user", "similar", "some",
		"system_user", "user":
		return KwValueWord
	}
	return KwNone
}

// isVerb reports whether k starts a statement that changes data or schema.
// Inside another statement, where no nested statement can start, such a word
// means the SQL is not what the analyzer thinks (SQL Server runs
// "SELECT 1 DELETE FROM t" as two statements): Unknown.
func isVerb(k Keyword) bool {
	switch k {
	case KwInsert, KwUpdate, KwDelete, KwMerge, KwUpsert, KwTruncate, KwCreate, KwDrop,
		KwAlter, KwCall, KwExec, KwExecute:
		return true
	}
	return false
}

// isNestedVerb reports whether k, first in parentheses, starts a nested
// data-modifying statement: WITH x AS (DELETE FROM t RETURNING *).
func isNestedVerb(k Keyword) bool {
	switch k {
	case KwInsert, KwUpdate, KwDelete, KwMerge:
		return true
	}
	return false
}

// isQueryStart reports whether k, first in parentheses, starts a query.
func isQueryStart(k Keyword) bool { return k == KwSelect || k == KwValues || k == KwTable }

// isStatementStart reports whether k can start the statement a WITH clause,
// or EXPLAIN's options, lead to.
func isStatementStart(k Keyword) bool {
	switch k {
	case KwSelect, KwValues, KwTable, KwWith, KwInsert, KwUpdate, KwDelete, KwMerge,
		KwReplace, KwUpsert, KwCreate, KwExecute:
		return true
	}
	return false
}

// nonAlias reports whether k, right after a table reference, goes on with the
// statement rather than naming the reference: FROM t WHERE, FROM t LEFT JOIN.
// Any other word there is an alias, even a keyword that some dialect would
// read as a clause (OFFSET, RETURNING, WINDOW): the list of table references
// then goes on, which can only over-report.
func nonAlias(k Keyword, write bool) bool {
	switch k {
	case KwJoin, KwInner, KwLeft, KwRight, KwFull, KwCross, KwNatural, KwOuter,
		KwStraightJoin, KwOn, KwUsing, KwWhere, KwGroup, KwHaving, KwOrder, KwLimit,
		KwUnion, KwIntersect, KwExcept, KwInto, KwSelect, KwFor, KwFrom, KwWith,
		KwTablesample, KwUse, KwForce, KwIgnore, KwIndexed, KwNot, KwPartition:
		return true
	case KwSet, KwReturning:
		return write
	}
	return isVerb(k)
}

// endsTargets reports whether k ends the list of tables an UPDATE or DELETE
// writes. USING ends it only as DELETE ... USING t, not as JOIN ... USING (c);
// RETURNING, which MySQL does not reserve, only outside an ON condition.
func endsTargets(k Keyword, next *Token, on bool) bool {
	switch k {
	case KwSet, KwFrom, KwWhere, KwOrder, KwLimit:
		return true
	case KwUsing:
		return next.Kind != LParen
	case KwReturning:
		return !on
	}
	return false
}

// tableHints lists SQL Server's table hints, FROM t WITH (NOLOCK) or
// FROM t (NOLOCK), and whether each makes the read a locking one.
var tableHints = map[string]bool{
	"nolock": false, "readuncommitted": false, "readcommitted": false,
	"readcommittedlock": false, "readpast": false, "rowlock": false,
	"paglock": false, "tablock": false, "nowait": false, "forceseek": false,
	"forcescan": false, "snapshot": false, "noexpand": false, "index": false,
	"updlock": true, "xlock": true, "holdlock": true, "tablockx": true,
	"serializable": true, "repeatableread": true,
}

// tableHint reports whether t is a SQL Server table hint and whether it
// locks.
func tableHint(t *Token) (hint, locks bool) {
	if t.Kind != Word || len(t.Text) > len("readcommittedlock") {
		return false, false
	}
	var buf [len("readcommittedlock")]byte
	for i := 0; i < len(t.Text); i++ {
		buf[i] = t.Text[i] | 0x20 // ASCII letters only: others never match
	}
	locks, hint = tableHints[string(buf[:len(t.Text)])]
	return hint, locks
}

// endsFromList reports whether k ends a FROM list: FROM a, b WHERE ....
// GROUP and ORDER end it before BY only, see keyword.
func endsFromList(k Keyword) bool {
	switch k {
	case KwWhere, KwHaving, KwLimit, KwUnion, KwIntersect, KwExcept:
		return true
	}
	return false
}

// mayEndFromList reports whether k ends a FROM list outside a join's ON
// condition. Inside one it is a column: MySQL and SQLite do not reserve
// these words, PostgreSQL not all of them (JOIN b ON offset = 1, c).
func mayEndFromList(k Keyword) bool {
	switch k {
	case KwOffset, KwFetch, KwWindow, KwReturning, KwQualify, KwMinus:
		return true
	}
	return false
}
