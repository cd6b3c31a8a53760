package deps

// kw identifies a keyword the parser acts on; kwNone is any other word.
type kw uint8

const (
	kwNone kw = iota
	// conditions
	kwAnd
	kwOr
	kwNot
	kwIs
	kwIn
	kwNull
	kwTrue
	kwFalse
	kwBetween
	kwCase
	kwEnd
	kwXor
	// queries
	kwSelect
	kwWith
	kwValues
	kwTable
	kwFrom
	kwDistinct
	kwWhere
	kwAs
	// joins
	kwJoin
	kwInner
	kwCross
	kwLeft
	kwRight
	kwFull
	kwNatural
	kwOuter
	kwStraightJoin
	kwOn
	kwUsing
	// clauses after WHERE
	kwGroup
	kwOrder
	kwLimit
	kwOffset
	kwFetch
	kwFor
	kwHaving
	kwWindow
	kwLock
	kwUnion
	kwIntersect
	kwExcept
	// what else may follow a FROM item, in place of an alias
	kwLateral
	kwOnly
	kwReturning
	kwUse
	kwForce
	kwIgnore
	kwIndexed
	kwTablesample
	kwPartition
	// words that are values or operators, never columns when unquoted
	kwValueWord
)

var keywords = map[string]kw{
	"AND": kwAnd, "OR": kwOr, "NOT": kwNot, "IS": kwIs, "IN": kwIn,
	"NULL": kwNull, "TRUE": kwTrue, "FALSE": kwFalse, "BETWEEN": kwBetween,
	"CASE": kwCase, "END": kwEnd, "XOR": kwXor,

	"SELECT": kwSelect, "WITH": kwWith, "VALUES": kwValues, "TABLE": kwTable,
	"FROM": kwFrom, "DISTINCT": kwDistinct, "WHERE": kwWhere, "AS": kwAs,

	"JOIN": kwJoin, "INNER": kwInner, "CROSS": kwCross, "LEFT": kwLeft,
	"RIGHT": kwRight, "FULL": kwFull, "NATURAL": kwNatural, "OUTER": kwOuter,
	"STRAIGHT_JOIN": kwStraightJoin, "ON": kwOn, "USING": kwUsing,

	"GROUP": kwGroup, "ORDER": kwOrder, "LIMIT": kwLimit, "OFFSET": kwOffset,
	"FETCH": kwFetch, "FOR": kwFor, "HAVING": kwHaving, "WINDOW": kwWindow,
	"LOCK": kwLock, "UNION": kwUnion, "INTERSECT": kwIntersect, "EXCEPT": kwExcept,

	"LATERAL": kwLateral, "ONLY": kwOnly, "RETURNING": kwReturning, "USE": kwUse,
	"FORCE": kwForce, "IGNORE": kwIgnore, "INDEXED": kwIndexed,
	"TABLESAMPLE": kwTablesample, "PARTITION": kwPartition,

	"CURRENT_DATE": kwValueWord, "CURRENT_TIME": kwValueWord,
	"CURRENT_TIMESTAMP": kwValueWord, "LOCALTIME": kwValueWord,
	"LOCALTIMESTAMP": kwValueWord, "CURRENT_USER": kwValueWord,
	"SESSION_USER": kwValueWord, "SYSTEM_USER": kwValueWord, "USER": kwValueWord,
	"CURRENT_ROLE": kwValueWord, "CURRENT_SCHEMA": kwValueWord,
	"CURRENT_CATALOG": kwValueWord, "DEFAULT": kwValueWord, "EXISTS": kwValueWord,
	"INTERVAL": kwValueWord, "CAST": kwValueWord, "ARRAY": kwValueWord,
	"ROW": kwValueWord, "ANY": kwValueWord, "ALL": kwValueWord, "SOME": kwValueWord,
	"UNIQUE": kwValueWord, "COLLATE": kwValueWord, "LIKE": kwValueWord,
	"ILIKE": kwValueWord, "GLOB": kwValueWord, "REGEXP": kwValueWord,
	"MATCH": kwValueWord, "BINARY": kwValueWord, "DIV": kwValueWord,
	"MOD": kwValueWord, "ESCAPE": kwValueWord, "ISNULL": kwValueWord,
	"NOTNULL": kwValueWord, "WHEN": kwValueWord, "THEN": kwValueWord,
	"ELSE": kwValueWord, "SIMILAR": kwValueWord, "OVERLAPS": kwValueWord,
	"RAISE": kwValueWord,
}

// keyword returns the keyword the word w is, case-insensitively.
func keyword(w string) kw {
	var buf [24]byte
	if len(w) > len(buf) {
		return kwNone
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return keywords[string(buf[:len(w)])]
}

// clauseKeyword reports the keywords that start a clause after WHERE: the
// end of the condition.
func clauseKeyword(k kw) bool { return kwGroup <= k && k <= kwExcept }

// joinKeyword reports the keywords that start a join: the end of an ON
// condition.
func joinKeyword(k kw) bool {
	switch k {
	case kwWhere, kwJoin, kwInner, kwCross, kwLeft, kwRight, kwFull, kwNatural, kwStraightJoin:
		return true
	}
	return false
}

// structural reports the keywords that may follow a FROM item in place of
// an alias.
func structural(k kw) bool {
	return k == kwWhere || k == kwAs || k == kwWith || k == kwNot || kwJoin <= k && k <= kwPartition
}
