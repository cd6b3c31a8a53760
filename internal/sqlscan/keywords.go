package sqlscan

// kw identifies a keyword the analyzer acts on; kNone is any other word.
type kw uint8

const (
	kNone kw = iota
	kAbort
	kAlgorithm
	kAlter
	kAnalyse
	kAnalyze
	kApply
	kAs
	kAttach
	kBegin
	kBy
	kCall
	kCascade
	kCase
	kCheckpoint
	kColumn
	kCommit
	kConcurrently
	kConflict
	kConstraint
	kCopy
	kCreate
	kCross
	kCycle
	kDeallocate
	kDefiner
	kDelayed
	kDelete
	kDesc
	kDescribe
	kDetach
	kDiscard
	kDistinct
	kDo
	kDrop
	kDumpfile
	kDuplicate
	kEnd
	kExcept
	kExec
	kExecute
	kExists
	kExplain
	kFetch
	kFor
	kForce
	kFrom
	kFull
	kFulltext
	kGlobal
	kGrant
	kGroup
	kHaving
	kHighPriority
	kIf
	kIgnore
	kIn
	kIndex
	kIndexed
	kInherit
	kInner
	kInsert
	kIntersect
	kInto
	kIs
	kJoin
	kKey
	kLateral
	kLeft
	kLimit
	kListen
	kLoad
	kLocal
	kLock
	kLowPriority
	kMatched
	kMaterialized
	kMerge
	kMinus
	kNatural
	kNo
	kNot
	kNotify
	kOffset
	kOn
	kOnline
	kOnly
	kOr
	kOrder
	kOuter
	kOutfile
	kOutput
	kPartition
	kPragma
	kPrepare
	kPrepared
	kQualify
	kQuick
	kRecursive
	kRefresh
	kRelease
	kRename
	kReplace
	kReset
	kReturning
	kRevoke
	kRight
	kRollback
	kRows
	kSavepoint
	kSearch
	kSelect
	kSet
	kShare
	kShow
	kSpatial
	kSQL
	kStart
	kStraightJoin
	kTable
	kTablesample
	kTemp
	kTemporary
	kThen
	kTo
	kTruncate
	kUnion
	kUnique
	kUnlisten
	kUnlock
	kUnlogged
	kUpdate
	kUpsert
	kUse
	kUsing
	kVacuum
	kValues
	kView
	kVirtual
	kWhen
	kWhere
	kWindow
	kWith
)

// keyword returns the kw of an unquoted word, case-insensitively.
func keyword(word string) kw {
	const longest = len("straight_join")
	if len(word) < 2 || len(word) > longest {
		return kNone
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
		return kAbort
	case "algorithm":
		return kAlgorithm
	case "alter":
		return kAlter
	case "analyse":
		return kAnalyse
	case "analyze":
		return kAnalyze
	case "apply":
		return kApply
	case "as":
		return kAs
	case "attach":
		return kAttach
	case "begin":
		return kBegin
	case "by":
		return kBy
	case "call":
		return kCall
	case "cascade":
		return kCascade
	case "case":
		return kCase
	case "checkpoint":
		return kCheckpoint
	case "column":
		return kColumn
	case "commit":
		return kCommit
	case "concurrently":
		return kConcurrently
	case "conflict":
		return kConflict
	case "constraint":
		return kConstraint
	case "copy":
		return kCopy
	case "create":
		return kCreate
	case "cross":
		return kCross
	case "cycle":
		return kCycle
	case "deallocate":
		return kDeallocate
	case "definer":
		return kDefiner
	case "delayed":
		return kDelayed
	case "delete":
		return kDelete
	case "desc":
		return kDesc
	case "describe":
		return kDescribe
	case "detach":
		return kDetach
	case "discard":
		return kDiscard
	case "distinct":
		return kDistinct
	case "do":
		return kDo
	case "drop":
		return kDrop
	case "dumpfile":
		return kDumpfile
	case "duplicate":
		return kDuplicate
	case "end":
		return kEnd
	case "except":
		return kExcept
	case "exec":
		return kExec
	case "execute":
		return kExecute
	case "exists":
		return kExists
	case "explain":
		return kExplain
	case "fetch":
		return kFetch
	case "for":
		return kFor
	case "force":
		return kForce
	case "from":
		return kFrom
	case "full":
		return kFull
	case "fulltext":
		return kFulltext
	case "global":
		return kGlobal
	case "grant":
		return kGrant
	case "group":
		return kGroup
	case "having":
		return kHaving
	case "high_priority":
		return kHighPriority
	case "if":
		return kIf
	case "ignore":
		return kIgnore
	case "in":
		return kIn
	case "index":
		return kIndex
	case "indexed":
		return kIndexed
	case "inherit":
		return kInherit
	case "inner":
		return kInner
	case "insert":
		return kInsert
	case "intersect":
		return kIntersect
	case "into":
		return kInto
	case "is":
		return kIs
	case "join":
		return kJoin
	case "key":
		return kKey
	case "lateral":
		return kLateral
	case "left":
		return kLeft
	case "limit":
		return kLimit
	case "listen":
		return kListen
	case "load":
		return kLoad
	case "local":
		return kLocal
	case "lock":
		return kLock
	case "low_priority":
		return kLowPriority
	case "matched":
		return kMatched
	case "materialized":
		return kMaterialized
	case "merge":
		return kMerge
	case "minus":
		return kMinus
	case "natural":
		return kNatural
	case "no":
		return kNo
	case "not":
		return kNot
	case "notify":
		return kNotify
	case "offset":
		return kOffset
	case "on":
		return kOn
	case "online":
		return kOnline
	case "only":
		return kOnly
	case "or":
		return kOr
	case "order":
		return kOrder
	case "outer":
		return kOuter
	case "outfile":
		return kOutfile
	case "output":
		return kOutput
	case "partition":
		return kPartition
	case "pragma":
		return kPragma
	case "prepare":
		return kPrepare
	case "prepared":
		return kPrepared
	case "qualify":
		return kQualify
	case "quick":
		return kQuick
	case "recursive":
		return kRecursive
	case "refresh":
		return kRefresh
	case "release":
		return kRelease
	case "rename":
		return kRename
	case "replace":
		return kReplace
	case "reset":
		return kReset
	case "returning":
		return kReturning
	case "revoke":
		return kRevoke
	case "right":
		return kRight
	case "rollback":
		return kRollback
	case "rows":
		return kRows
	case "savepoint":
		return kSavepoint
	case "search":
		return kSearch
	case "select":
		return kSelect
	case "set":
		return kSet
	case "share":
		return kShare
	case "show":
		return kShow
	case "spatial":
		return kSpatial
	case "sql":
		return kSQL
	case "start":
		return kStart
	case "straight_join":
		return kStraightJoin
	case "table":
		return kTable
	case "tablesample":
		return kTablesample
	case "temp":
		return kTemp
	case "temporary":
		return kTemporary
	case "then":
		return kThen
	case "to":
		return kTo
	case "truncate":
		return kTruncate
	case "union":
		return kUnion
	case "unique":
		return kUnique
	case "unlisten":
		return kUnlisten
	case "unlock":
		return kUnlock
	case "unlogged":
		return kUnlogged
	case "update":
		return kUpdate
	case "upsert":
		return kUpsert
	case "use":
		return kUse
	case "using":
		return kUsing
	case "vacuum":
		return kVacuum
	case "values":
		return kValues
	case "view":
		return kView
	case "virtual":
		return kVirtual
	case "when":
		return kWhen
	case "where":
		return kWhere
	case "window":
		return kWindow
	case "with":
		return kWith
	}
	return kNone
}

// isVerb reports whether k starts a statement that changes data or schema.
// Inside another statement, where no nested statement can start, such a word
// means the SQL is not what the analyzer thinks (SQL Server runs
// "SELECT 1 DELETE FROM t" as two statements): Unknown.
func isVerb(k kw) bool {
	switch k {
	case kInsert, kUpdate, kDelete, kMerge, kUpsert, kTruncate, kCreate, kDrop,
		kAlter, kCall, kExec, kExecute:
		return true
	}
	return false
}

// isNestedVerb reports whether k, first in parentheses, starts a nested
// data-modifying statement: WITH x AS (DELETE FROM t RETURNING *).
func isNestedVerb(k kw) bool {
	switch k {
	case kInsert, kUpdate, kDelete, kMerge:
		return true
	}
	return false
}

// isQueryStart reports whether k, first in parentheses, starts a query.
func isQueryStart(k kw) bool { return k == kSelect || k == kValues || k == kTable }

// isStatementStart reports whether k can start the statement a WITH clause,
// or EXPLAIN's options, lead to.
func isStatementStart(k kw) bool {
	switch k {
	case kSelect, kValues, kTable, kWith, kInsert, kUpdate, kDelete, kMerge,
		kReplace, kUpsert, kCreate, kExecute:
		return true
	}
	return false
}

// nonAlias reports whether k, right after a table reference, goes on with the
// statement rather than naming the reference: FROM t WHERE, FROM t LEFT JOIN.
// Any other word there is an alias, even a keyword that some dialect would
// read as a clause (OFFSET, RETURNING, WINDOW): the list of table references
// then goes on, which can only over-report.
func nonAlias(k kw, write bool) bool {
	switch k {
	case kJoin, kInner, kLeft, kRight, kFull, kCross, kNatural, kOuter,
		kStraightJoin, kOn, kUsing, kWhere, kGroup, kHaving, kOrder, kLimit,
		kUnion, kIntersect, kExcept, kInto, kSelect, kFor, kFrom, kWith,
		kTablesample, kUse, kForce, kIgnore, kIndexed, kNot, kPartition:
		return true
	case kSet, kReturning:
		return write
	}
	return isVerb(k)
}

// endsTargets reports whether k ends the list of tables an UPDATE or DELETE
// writes. USING ends it only as DELETE ... USING t, not as JOIN ... USING (c);
// RETURNING, which MySQL does not reserve, only outside an ON condition.
func endsTargets(k kw, next *token, on bool) bool {
	switch k {
	case kSet, kFrom, kWhere, kOrder, kLimit:
		return true
	case kUsing:
		return next.Kind != LParen
	case kReturning:
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
func tableHint(t *token) (hint, locks bool) {
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
func endsFromList(k kw) bool {
	switch k {
	case kWhere, kHaving, kLimit, kUnion, kIntersect, kExcept:
		return true
	}
	return false
}

// mayEndFromList reports whether k ends a FROM list outside a join's ON
// condition. Inside one it is a column: MySQL and SQLite do not reserve
// these words, PostgreSQL not all of them (JOIN b ON offset = 1, c).
func mayEndFromList(k kw) bool {
	switch k {
	case kOffset, kFetch, kWindow, kReturning, kQualify, kMinus:
		return true
	}
	return false
}
