// Package depscan proves which rows a built SELECT depends on, in the
// model of package deps: Extract reads the tokens sqlscan.Analyze lexed,
// the statement's vars and its models, and returns, per table read, the
// conjunctions of equalities a row must satisfy to matter to the result.
// The write path places row images in those conjunctions with the same
// Field and Canon.
//
// # Values
//
// Values are compared in canonical form (Canon): the read path encodes the
// query's values, the write path the rows', both with the field Field
// returns for the column, and values the database considers equal encode
// alike. A value Canon refuses is never a term: on the read side the
// column is then a wildcard; on the write side the row cannot be placed
// and the table must be invalidated — except for a non-NULL value of a
// column that is not Equatable, which matches no term.
//
// # What is proven
//
// Extract reads the SQL GORM built, the text the database runs, not the
// clause tree: GORM does not always parenthesize what the tree says
// (Where("a = ? OR\nb = ?").Where("c = ?") runs as a = ? OR (b = ? AND c =
// ?)), and the primary-key and soft-delete conditions, struct, map and
// named conditions, preload and association queries all end up as SQL.
// Placeholders (? or $n) map to Statement.Vars; models come from
// Statement.Schema and, for the tables of Joins("Relation"), from the
// relation.
//
// In the WHERE and ON conditions:
//
//   - column = value, value = column, column IS NULL, column IN (values)
//     with at most Options.MaxIn values (one conjunction per value), and
//     (a, b) = (v, w) and (a, b) IN ((v, w), ...) for composite keys. A
//     value is a placeholder, an integer, a plain 'string', TRUE, FALSE or
//     NULL; = NULL and IN (NULL), never true, give "n" like IS NULL.
//   - AND (the product of the conjunctions, at most 64: beyond, the side
//     with fewer is kept), OR (their union, at most 64: beyond, TRUE) and
//     parentheses.
//   - column = column carries values: photos.user_id = ? AND
//     photos.user_id = "User".id proves "User".id = ? for the joined users,
//     when both columns encode the value alike.
//
// Anything else proves nothing and counts as TRUE: it adds no term to its
// conjunction and makes a disjunction TRUE. That covers ranges, LIKE, <>,
// NOT and IS NOT, functions, arithmetic, COLLATE, casts, CASE, BETWEEN,
// EXISTS and subqueries, comparisons with values Canon refuses, and
// columns that are not fields of a known model (an unqualified column
// belongs to the main table, and only if its model has it). Skipping such
// an operand up to the next AND or OR — past parentheses, CASE ... END and
// the AND of BETWEEN — is exact in every dialect read, because AND and OR
// bind loosest.
//
// A table gets conjunctions only when it is the main table (the first of
// the FROM list) or joined by Joins("Relation"), every reference to it is
// one of those, and each proves something. A LEFT JOINed table is
// constrained by its ON condition; an IS NULL on it elsewhere proves
// nothing, since its columns are NULL when nothing matched; a WHERE
// equality on it that rejects those NULLs (User.id = ?) makes its ON
// condition hold for the other tables too. Everything else the query
// reads has the empty Conj: tables of subqueries (a *gorm.DB var,
// Table("(?) AS t", sub), IN (SELECT ...)), of raw join strings and of
// comma lists, and every table of a statement that is not a single SELECT
// ... FROM ... [WHERE ...] or that the parser refuses.
//
// # What is refused
//
// Extract proves nothing for SQL the dialects could read differently or
// it cannot map to its vars: an Unknown analysis (which input sqlscan
// cannot lex the same way in every dialect makes), a NUL byte,
// MySQL's # comments, its ||, && (outside PostgreSQL and SQLite) and XOR
// operators, --x comments, :=, ?NNN and named placeholders, placeholders
// that do not match the vars one to one, RIGHT, FULL and NATURAL joins,
// LATERAL, and nesting deeper than 100 parentheses.
//
// # Options.Fields
//
// gormcache.Cache(fields...) restricts tracking to the named Go fields or
// columns of the model and to relation paths ("User", "Message.Sender",
// "User.Name"): terms on anything else are dropped, which is coarser but
// never unsafe. A name that is none of these is an error
// (deps.ErrUnknownField).
//
// # How columns compare
//
// A database compares a column's values as its type and collation say,
// which the schema may declare in its migrations alone: MySQL's
// utf8mb4_general_ci finds 'ADA ' equal to 'ada', PostgreSQL's citext
// ignores case and char(n) trailing spaces, SQLite's COLLATE NOCASE
// ignores case, and a string compared with a number is converted ('abc' =
// 0 on MySQL, '07' = 7 in a SQLite INTEGER column). Options.Columns, which
// the plugin reads from the database's catalogue (package collation),
// tells Extract how each column compares: a value is a term only when the
// column's kind agrees with the value's (an integer or a boolean and an
// integer column, a string and a text column), and a string is named by
// its collation's Key, so that the write path, encoding row images with
// CanonFor and the same Columns, places 'ADA ' in the conjunction of
// 'ada'. Values are carried across a join only between columns compared
// alike. Without Columns, strings are terms only for the "sqlite" and
// "postgres" dialects, whose default comparisons are exact, and only on
// columns whose model declares no other type (Canon).
//
// # Limits
//
//   - Without Options.Columns, the model must describe the column: a
//     string field mapped to an integer column (or the reverse), or two
//     models that map one table with different types for a column, defeat
//     the classes Canon relies on.
//   - Only the SQL text is seen. Triggers, rules, views, cascades and
//     functions that read other tables are invisible, as in sqlscan.
//   - A statement without a model, or whose main table is not its model's
//     table (Table("other")), proves nothing about its columns.
//   - Association("Many2Many").Find reads the join table through a raw
//     join from the target model: both tables have the empty Conj.
//
// # Cost
//
// Extract lexes nothing: it reads the tokens of the analysis the plugin
// has made already (and keeps for recent SQL texts). It allocates little
// more than its result: about 1.5µs and 6 allocations for a query by
// primary key or by two columns, 5µs for one relation join
// (BenchmarkExtractAnalysed; BenchmarkExtract adds sqlscan.Analyze).
//
// The plugin calls it through an Extractor, which keeps, per statement,
// what the proof owes to the SQL alone and where each placeholder's value
// went: for new values of a statement without joins it encodes them and
// puts them in place, checking that they lead the proof the same way (see
// Extractor), in a fifth of the time (BenchmarkExtractor).
package depscan
