// Package deps is the dependency model of gormcache: which rows a cached
// result depends on, so that a write evicts exactly the results it could
// change. The plugin computes the dependencies of every result it caches
// and stores them with it; this package is how users and the admin pages
// read them.
//
// # Dependencies
//
// A SELECT's result is a function of the rows that satisfy its WHERE
// condition (and the ON conditions of its joins); no other row can enter,
// leave or change it. For each table a query reads (Table), the plugin
// over-approximates that set by a disjunction of conjunctions of
// equalities (Conj), such as
//
//	photos: status = 1 AND user_id = 5 | status = 2 AND user_id = 5
//
// Every row that matters matches at least one conjunction of its table.
// The empty Conj means that any row of the table may matter: nothing
// narrower was proven (a range, a LIKE, a subquery, a raw join).
//
// A write computes, for each row it adds, removes or changes (the row
// before and after), the conjunction the row belongs to under each Scheme
// of the table — the column lists of the conjunctions of cached results —
// and invalidates those conjunctions. A write whose rows match no
// conjunction of a cached result leaves that result valid.
//
// # Encoding
//
// A conjunction is stored as its Key and grouped by its Scheme:
//
//	Key     status=i1&user_id=i5
//	Scheme  status,user_id
//
// Terms are sorted by column, one per column, column names unquoted and
// lowercase. Names and values are query-escaped (url.QueryEscape), so
// distinct conjunctions have distinct keys; ParseConj inverts Key exactly.
// A value is canonical, a letter for its class and the value:
//
//	n         NULL
//	i<digits> an integer in decimal, such as i5 or i-3
//	s<bytes>  a string of at most MaxStringValue bytes, byte for byte, such as sann;
//	          on MySQL, as the column's collation names its class of equal strings
//	          (sADA for 'ada ' in utf8mb4_general_ci)
//	h<22>     a longer string, by 128 bits of its SHA-256 in base64url
//	b1, b0    true, false (and SQLite's 1 and 0 in a boolean column)
//
// Term.String and Conj.String show them as SQL:
//
//	status = 1 AND user_id = 5
//	title = 'it''s' AND deleted_at IS NULL AND active = true
//
// # The guarantee
//
// Values the database considers equal encode alike, and values it
// considers different encode differently: the read side encodes the
// query's values and the write side the rows', both by the column's field
// in the model and, on MySQL, by the column's type and collation as the
// database reports them. A value for which that cannot be proven — a float, a time,
// a string compared under a collation that may ignore case, an integer
// compared with a string column — is never a term: a read leaves its
// column out of the conjunction, which is coarser but never unsafe, and a
// write that cannot place its row in a scheme invalidates every cached
// result that reads its table (unless only NULL is ever a term on that
// column, as for a time: a row that is not NULL there matches no term).
// So a cached result stays valid only while no write through GORM has
// changed a row that matches one of its conjunctions.
package deps
