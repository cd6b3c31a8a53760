// Package invalidation describes what gormcache invalidates, for logs,
// metrics and tracing. Every invalidation the plugin delivers — a write's,
// right after its transaction commits, or a manual call's — is an Event,
// handed to gormcache.Config.OnInvalidate.
//
// A write invalidates row by row when it can: the cached results that the
// rows it changed belong to, before and after the change (Level Rows).
// Otherwise it invalidates every result that reads the tables it writes
// (Level Tables), or everything (Level All), and Reason says why.
package invalidation

import (
	"fmt"

	"github.com/gormcache/gormcache/store"
)

// Event is one delivered invalidation.
type Event struct {
	// Statement is the SQL of the write, its vars not inlined; "" for a
	// manual call (gormcache.InvalidateTable and the like).
	Statement string
	// Key is the Remember key of Level Key.
	Key string
	// Tables are the tables the write changed, or the call named; nil for
	// Level All. Names are unquoted, lowercased and unqualified, as the
	// plugin tracks them.
	Tables []string
	// Level says how finely the write was invalidated.
	Level Level
	// Reason says why it was not row by row; ReasonNone for Level Rows.
	Reason Reason
	// Rows is the number of row dependencies renewed: one per distinct
	// value of a tracked column among the rows changed.
	Rows int
	// Cascaded lists the relations a write reached beyond its tables:
	// through cascading foreign keys (ON DELETE CASCADE, SET NULL...), the
	// tables the triggers it fired write, the views that read what it
	// changed, the tables under a view it wrote through, a partition's
	// parent and a parent's partitions. Every result that reads them was
	// invalidated too.
	Cascaded []string
	// Deps are the dependencies renewed, as the store names them.
	Deps []store.Dep
	// Err is the store's failure, when the invalidation could not be
	// delivered; the store's own fallback then applies (the Redis store
	// retries, then renews its epoch). Nil otherwise.
	Err error
}

// Level is how finely a write was invalidated.
type Level uint8

const (
	// Rows: the results the changed rows belong to, before and after.
	Rows Level = iota
	// Tables: every result that reads one of Event.Tables.
	Tables
	// All: every result the plugin cached.
	All
	// Key: the value cached under one gormcache.Remember key
	// (gormcache.Forget), named by Event.Key.
	Key
)

func (l Level) String() string {
	switch l {
	case Rows:
		return "rows"
	case Tables:
		return "tables"
	case All:
		return "all"
	case Key:
		return "key"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Reason says why a write was not invalidated row by row.
type Reason uint8

const (
	// ReasonNone: it was (Level Rows).
	ReasonNone Reason = iota
	// ReasonPrecision: the table is invalidated at table level
	// (Config.Precision or the model's Policy).
	ReasonPrecision
	// ReasonStatement: the statement changes rows it does not name: an
	// upsert (ON CONFLICT), an INSERT or UPDATE modifier (OR REPLACE), or
	// clauses that write another table than its model's (clause.Insert or
	// clause.Update with a Table, UPDATE ... FROM, a FROM of a delete).
	ReasonStatement
	// ReasonRawSQL: raw SQL (db.Exec, or a write through db.Raw), whose
	// written tables are parsed from the SQL.
	ReasonRawSQL
	// ReasonUnparsed: SQL whose written tables could not be determined:
	// everything is invalidated (Level All).
	ReasonUnparsed
	// ReasonNoTransaction: the write ran outside a transaction
	// (SkipDefaultTransaction), where its old rows cannot be read under
	// its lock.
	ReasonNoTransaction
	// ReasonTooManyRows: it changed more rows than Config.MaxWriteRows.
	ReasonTooManyRows
	// ReasonUnreadable: its rows could not be read, or their values do
	// not tell which cached results they belong to (a value the plugin
	// cannot compare; gormcache.InvalidateObject given only a primary key).
	ReasonUnreadable
	// ReasonManual: gormcache.InvalidateTable, InvalidateModel or
	// InvalidateAll.
	ReasonManual
	// ReasonCascadesUnknown: the database's foreign keys or triggers
	// could not be read, so any table might have changed by a cascade
	// (Level All).
	ReasonCascadesUnknown
	// ReasonTrigger: a trigger the write fired runs SQL whose tables cannot
	// be told (dynamic SQL, a procedure it calls, a language other than
	// SQL and PL/pgSQL), so any table might have changed (Level All).
	ReasonTrigger
)

var reasons = [...]string{
	ReasonNone:          "none",
	ReasonPrecision:     "table-level precision",
	ReasonStatement:     "statement writes rows it does not name",
	ReasonRawSQL:        "raw SQL",
	ReasonUnparsed:      "unparsed SQL",
	ReasonNoTransaction: "no transaction",
	ReasonTooManyRows:   "too many rows",
	ReasonUnreadable:    "rows not readable",
	ReasonManual:        "manual",

	ReasonCascadesUnknown: "cascades unknown",
	ReasonTrigger:         "trigger writes unknown tables",
}

func (r Reason) String() string {
	if int(r) < len(reasons) {
		return reasons[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}
