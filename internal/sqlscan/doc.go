// Package sqlscan reads just enough SQL to tell which tables it reads and
// writes: the read path makes a cached query depend on the tables it reads,
// the write path invalidates the tables a raw statement writes.
//
// Analyze lexes the whole string, splits it into statements at ';' and walks
// each one: FROM, JOIN and USING lists, subqueries, CTE bodies, and the
// targets of INSERT, UPDATE, DELETE, MERGE, TRUNCATE and DDL. It is not a
// parser: it recognizes the shapes that name tables and treats the rest as
// opaque expressions. Over-reporting a table costs an extra invalidation;
// under-reporting one serves stale data. So whatever it cannot place — an
// unknown statement, a write target that is not a name, a data-changing verb
// where none belongs, input the dialects would tokenize differently — sets
// Analysis.Unknown rather than a guess, and the caller then assumes the
// worst (invalidate everything, do not cache). The Analysis keeps the tokens
// with their Keyword, so that a reader that goes further (internal/depscan,
// which proves the equalities a query filters on) does not lex again.
//
// RoutineWrites reads a trigger's body the same way, for the tables its
// statements write: the plugin reads the bodies of a database's triggers
// from its catalogue, so that a write also invalidates what its triggers
// change.
//
// The lexer (Lexer) reads PostgreSQL, MySQL/MariaDB, SQLite and SQL Server
// syntax at once. Where they disagree on where a token ends, it reads the
// union of the meanings or gives up with Invalid: backslash escapes in '...'
// and "..." (MySQL), nested and executable /*! */ comments, MySQL's # and
// --x line comments (read as code, PostgreSQL's reading), [...] (an
// identifier in SQL Server and SQLite, a subscript in PostgreSQL). E'...'
// strings and dollar quotes, PostgreSQL's own syntax, are read the
// PostgreSQL way.
//
// Limits, by design:
//
//   - Only the SQL text is seen. What the database does on its own is
//     invisible: triggers, rules, foreign-key cascades (ON DELETE CASCADE),
//     stored functions and procedures, and views (the plugin reads the
//     cascades, views and triggers from the database's catalogue). A read of a view depends on
//     the view's name only, not on the tables behind it; a write through an
//     updatable view writes the view's name only. System catalogs
//     (information_schema, pg_catalog, sqlite_master) are such views: DDL
//     writes the tables it names, not the catalogs describing them, so a
//     query reading one is Volatile, never to be cached.
//   - A SELECT that calls a function is read-only, even when the function
//     changes data (nextval, a PL/pgSQL function that inserts); it is
//     Volatile unless the function is a built-in known to depend on its
//     arguments only (count, lower, coalesce, json_extract...).
//   - Names are reduced to their last component and lowercased, so tables of
//     the same name in different schemas, or differing only in quoted case,
//     share a dependency: more invalidation, never staleness.
//   - CTE names are reported as reads, like tables.
package sqlscan
