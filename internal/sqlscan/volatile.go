package sqlscan

import "strings"

// nondeterministic reports whether the tokens read something that can change
// without a write to the tables they name: a function not known to be
// deterministic (now(), random(), nextval(), current_setting(), any
// user-defined function), a niladic keyword of the session or the clock
// (CURRENT_TIMESTAMP, CURRENT_USER, MySQL's UTC_TIMESTAMP), a date literal
// relative to the clock ('now', 'today'), or a MySQL user or system
// variable (@x, @@sql_mode), which SET changes. System catalogues are
// found where tables are read (see catalogue).
//
// It is a list of what is known to be safe, so that an unknown function
// fails closed: a query calling one is not cached.
func nondeterministic(toks []Token) bool {
	for i := range toks {
		t := &toks[i]
		switch t.Kind {
		case Word:
			if i > 0 && toks[i-1].Kind == Dot {
				// s.f(): a qualified function is looked at by its last
				// name; a qualified column never is a clock keyword, but
				// s.nextval reads a sequence (MariaDB's Oracle mode).
				if toks[i+1].Kind == LParen && !deterministic(t.Text) || sequenceWord(t.Text) {
					return true
				}
				continue
			}
			if toks[i+1].Kind == LParen {
				if !deterministic(t.Text) && !callLike(t.Keyword, t.Text) && !namesList(toks, i) || clockDefault(toks, i) {
					return true
				}
				continue
			}
			if clockKeyword(t.Text) && (i+1 >= len(toks) || toks[i+1].Kind != Dot) || nextValueFor(toks, i) {
				return true
			}
		case QuotedIdent:
			// "f"(...) calls f as f(...) does; and SQLite reads "now", a
			// name no column has, as the string 'now'.
			name, ok := normalize(*t)
			if toks[i+1].Kind == LParen && (!ok || !deterministic(name)) && !namesList(toks, i) ||
				t.Text[0] == '"' && ClockWord(t.Text[1:len(t.Text)-1]) {
				return true
			}
		case String:
			if clockLiteral(t.Text) {
				return true
			}
		case Param:
			if t.Text[0] == '@' {
				return true
			}
		}
	}
	return false
}

// namesList reports whether the word at i, followed by (, names a table or
// alias with a column list, or a table with SQL Server's hints, rather than
// calls a function: AS g(n), WITH c(x) AS, INSERT INTO t (a, b), FROM t
// (NOLOCK), and a CTE after the first: WITH a AS (...), c (x) AS (...).
func namesList(toks []Token, i int) bool {
	if i > 0 {
		switch toks[i-1].Keyword {
		case KwAs, KwWith, KwInto, KwRecursive, KwTable:
			return true
		}
	}
	if hint, _ := tableHint(&toks[i+2]); hint {
		return true
	}
	depth := 0
	for j := i + 1; j < len(toks); j++ {
		switch toks[j].Kind {
		case LParen:
			depth++
		case RParen:
			if depth--; depth == 0 {
				if toks[j+1].Keyword != KwAs {
					return false
				}
				next := &toks[j+2]
				return next.Kind == LParen || next.Keyword == KwMaterialized || next.Keyword == KwNot
			}
		case EOF, Semicolon:
			return false
		}
	}
	return false
}

// clockDefault reports whether the word at i, followed by (, calls one of
// SQLite's date and time functions without a time value, which then reads
// the clock: date(), time(), datetime(), julianday(), unixepoch(),
// strftime(format).
func clockDefault(toks []Token, i int) bool {
	var buf [32]byte
	name, _ := lower(toks[i].Text, &buf)
	switch name {
	case "date", "time", "datetime", "julianday", "unixepoch":
		return args(toks, i+1) == 0
	case "strftime":
		return args(toks, i+1) <= 1
	}
	return false
}

// args returns how many arguments the call whose ( is at j has.
func args(toks []Token, j int) int {
	if toks[j+1].Kind == RParen {
		return 0
	}
	n, depth := 1, 0
	for j++; j < len(toks); j++ {
		switch toks[j].Kind {
		case LParen:
			depth++
		case RParen:
			if depth == 0 {
				return n
			}
			depth--
		case Comma:
			if depth == 0 {
				n++
			}
		case EOF, Semicolon:
			return n
		}
	}
	return n
}

// nextValueFor reports whether the word at i opens MariaDB's NEXT VALUE FOR
// s or PREVIOUS VALUE FOR s: a read of a sequence that the read itself, or
// any insert, advances.
func nextValueFor(toks []Token, i int) bool {
	return (strings.EqualFold(toks[i].Text, "next") || strings.EqualFold(toks[i].Text, "previous")) &&
		toks[i+1].Kind == Word && strings.EqualFold(toks[i+1].Text, "value") && toks[i+2].Keyword == KwFor
}

// sequenceWord reports whether s.word reads the sequence s (MariaDB's
// Oracle mode: s.nextval, s.currval).
func sequenceWord(word string) bool {
	return strings.EqualFold(word, "nextval") || strings.EqualFold(word, "currval")
}

// lower returns word in lower case, without allocating for the short words
// function names are.
func lower(word string, buf *[32]byte) (string, bool) {
	if len(word) > len(buf) {
		return "", false
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:len(word)]), true
}

// deterministic reports a built-in function of SQLite, PostgreSQL or MySQL
// whose result depends only on its arguments: aggregates, window functions,
// arithmetic, strings, dates computed from their arguments, JSON and arrays.
func deterministic(word string) bool {
	var buf [32]byte
	w, ok := lower(word, &buf)
	if !ok {
		return false
	}
	_, ok = deterministicFuncs[w]
	return ok
}

var deterministicFuncs = setOf(
	// aggregates and window functions
	"count", "sum", "avg", "min", "max", "total", "group_concat", "string_agg",
	"array_agg", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
	"json_group_array", "json_group_object", "json_arrayagg", "json_objectagg",
	"bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor", "stddev",
	"stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "median",
	"percentile_cont", "percentile_disc", "any_value", "listagg", "corr",
	"covar_pop", "covar_samp", "row_number", "rank", "dense_rank",
	"percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
	"last_value", "nth_value",
	// conditionals and conversions
	"coalesce", "nullif", "ifnull", "nvl", "iif", "if", "greatest", "least",
	"cast", "try_cast", "convert", "typeof", "likelihood", "likely", "unlikely",
	// arithmetic
	"abs", "ceil", "ceiling", "floor", "round", "trunc", "truncate", "mod",
	"power", "pow", "sqrt", "cbrt", "exp", "ln", "log", "log10", "log2", "sign",
	"pi", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan",
	"atan2", "cot", "div", "width_bucket", "gcd", "lcm", "factorial",
	// strings and bytes
	"lower", "upper", "lcase", "ucase", "length", "len", "char_length",
	"character_length", "octet_length", "bit_length", "substr", "substring",
	"left", "right", "ltrim", "rtrim", "btrim", "trim", "lpad", "rpad",
	"concat", "concat_ws", "replace", "reverse", "repeat", "instr", "locate",
	"position", "strpos", "split_part", "initcap", "ascii", "chr", "char",
	"unicode", "format", "printf", "quote", "quote_ident", "quote_literal",
	"quote_nullable", "md5", "sha1", "sha2", "hex", "unhex", "to_hex",
	"encode", "decode", "translate", "regexp_replace", "regexp_match",
	"regexp_matches", "regexp_substr", "regexp_like", "regexp_instr",
	"regexp_count", "starts_with", "like", "glob", "soundex", "space", "field",
	"find_in_set", "elt", "ord", "bin", "oct", "conv", "crc32", "zeroblob",
	"insert", "mid", "substring_index", "strcmp", "collate",
	// dates computed from their arguments ('now' is caught as a literal)
	"date", "time", "datetime", "julianday", "strftime", "unixepoch",
	"date_trunc", "date_part", "extract", "date_format", "date_add",
	"date_sub", "datediff", "timestampdiff", "timestampadd", "adddate",
	"subdate", "makedate", "make_date", "make_time", "make_timestamp",
	"make_interval", "year", "month", "day", "hour", "minute", "second",
	"dayofweek", "dayofmonth", "dayofyear", "week", "weekday", "quarter",
	"last_day", "to_char", "to_number", "to_date", "to_timestamp",
	"isfinite", "justify_days", "justify_hours", "justify_interval",
	// JSON and arrays
	"json", "json_extract", "json_array", "json_object", "json_array_length",
	"json_type", "json_valid", "json_quote", "json_insert", "json_replace",
	"json_set", "json_remove", "json_patch", "json_each", "json_tree",
	"json_unquote", "json_contains", "json_length", "json_keys", "json_search",
	"json_value", "json_build_object", "json_build_array", "jsonb_build_object",
	"jsonb_build_array", "to_json", "to_jsonb", "row_to_json", "array_to_json",
	"json_array_elements", "jsonb_array_elements", "json_array_elements_text",
	"jsonb_array_elements_text", "json_each_text", "jsonb_each",
	"jsonb_each_text", "json_object_keys", "jsonb_object_keys", "jsonb_set",
	"jsonb_insert", "jsonb_path_query", "jsonb_path_exists",
	"json_extract_path", "json_extract_path_text", "jsonb_extract_path",
	"jsonb_extract_path_text", "jsonb_typeof", "json_typeof",
	"jsonb_array_length", "jsonb_strip_nulls", "jsonb_pretty", "array_length",
	"array_upper", "array_lower", "array_position", "array_positions",
	"array_cat", "array_append", "array_prepend", "array_remove",
	"array_replace", "array_to_string", "string_to_array", "cardinality",
	"unnest", "generate_series", "generate_subscripts",
)

// callLike reports the words that take a parenthesized list without being
// functions: operators (IN, EXISTS, ANY), clauses (OVER, FILTER, USING,
// VALUES), the words a subquery may follow (SELECT (SELECT ...), AND (...))
// and type names with their precision (varchar(10), numeric(10, 2)).
func callLike(k Keyword, word string) bool {
	if analyzed(k) {
		return true // every keyword the analyzer acts on is grammar
	}
	var buf [32]byte
	w, ok := lower(word, &buf)
	if !ok {
		return false
	}
	_, ok = grammarWords[w]
	return ok
}

var grammarWords = setOf(
	"in", "exists", "any", "all", "some", "over", "filter", "within", "and",
	"or", "not", "where", "when", "then", "else", "row", "array", "is", "ilike",
	"between", "similar", "escape", "regexp", "rlike", "match", "against",
	"interval", "overlay", "treat", "only", "ordinality", "nulls", "first",
	"last", "asc", "of", "mode", "partition", "range", "rows", "groups",
	"tablesample", "repeatable", "primary", "references", "check", "unique",
	"foreign", "default", "generated", "stored", "virtual", "identity",
	"returns", "return", "elseif", "while", "including", "excluding",
	// types
	"char", "varchar", "character", "varying", "nchar", "nvarchar", "numeric",
	"decimal", "dec", "float", "double", "precision", "real", "timestamp",
	"timestamptz", "bit", "varbit", "int", "integer", "bigint", "smallint",
	"tinyint", "mediumint", "binary", "varbinary", "datetime2", "time",
	"timetz", "enum", "set", "vector",
)

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// clockKeyword reports the niladic words whose value is the clock's or the
// session's: CURRENT_TIMESTAMP, LOCALTIME, CURRENT_USER, ...
func clockKeyword(word string) bool {
	if len(word) < len("utc_date") || len(word) > len("current_timestamp") {
		return false
	}
	var buf [32]byte
	w, _ := lower(word, &buf)
	switch w {
	case "current_timestamp", "current_date", "current_time", "localtime",
		"localtimestamp", "current_user", "session_user", "current_role",
		"current_schema", "current_catalog", "system_user",
		"utc_timestamp", "utc_date", "utc_time":
		return true
	}
	return false
}

// clockLiteral reports a string literal that names a moment relative to the
// clock: 'now' (SQLite's date functions, PostgreSQL's 'now'::timestamp),
// 'today', 'tomorrow', 'yesterday'.
func clockLiteral(text string) bool {
	if len(text) < 5 || len(text) > 20 || text[len(text)-1] != '\'' {
		return false
	}
	return ClockWord(text[strings.IndexByte(text, '\'')+1 : len(text)-1])
}

// ClockWord reports whether s, a string literal's text or a string var,
// names a moment relative to the clock when the database reads it as a
// date or a time: "now", "today", "tomorrow", "yesterday" (SQLite's date
// functions, PostgreSQL's date and time input), whatever their case and
// surrounding spaces.
func ClockWord(s string) bool {
	if len(s) > 16 {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "now", "today", "tomorrow", "yesterday":
		return true
	}
	return false
}

// catalogueSchema reports a schema that holds system catalogues: the
// database's description of itself, which DDL changes without naming it.
func catalogueSchema(name string) bool {
	switch name {
	case "information_schema", "pg_catalog", "performance_schema", "mysql", "sys":
		return true
	}
	return false
}

// catalogueTable reports a relation name of a system catalogue that is
// reachable unqualified: PostgreSQL's pg_class, pg_tables..., SQLite's
// sqlite_master, sqlite_schema...
func catalogueTable(name string) bool {
	return strings.HasPrefix(name, "pg_") || strings.HasPrefix(name, "sqlite_")
}
