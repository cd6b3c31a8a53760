package sqlscan

import "strings"

// TxControl is what SQL does to the transaction of the connection it runs
// on, as the transaction-control statements in it say.
type TxControl struct {
	// Ends reports that a statement commits or rolls back the transaction:
	// COMMIT, END, ROLLBACK or ABORT, but not ROLLBACK TO a savepoint nor
	// COMMIT or ROLLBACK PREPARED, which end another transaction.
	Ends bool
	// Open reports that a transaction is open after the last statement
	// that begins or ends one (BEGIN, START TRANSACTION, COMMIT AND
	// CHAIN); it is only meaningful with Ends or Begins.
	Open bool
	// Begins reports that a statement begins a transaction.
	Begins bool
}

// Transaction returns what the statements of the SQL analysed as a do to
// the transaction they run in. MariaDB's compound statement BEGIN NOT
// ATOMIC ... END begins none, and what follows it is not read.
func Transaction(a *Analysis) TxControl {
	var c TxControl
	start := true
	for i, s := range a.Tokens {
		if s.Kind == Semicolon || s.Kind == EOF {
			start = true
			continue
		}
		if !start {
			continue
		}
		start = false
		switch s.Keyword {
		case KwBegin:
			if a.wordIs(i+1, "NOT") {
				return c
			}
			c.Begins, c.Open = true, true
		case KwStart:
			if a.wordIs(i+1, "TRANSACTION") {
				c.Begins, c.Open = true, true
			}
		case KwCommit, KwEnd, KwRollback, KwAbort:
			next := i + 1
			if (s.Keyword == KwCommit || s.Keyword == KwRollback) && (a.wordIs(next, "WORK") || a.wordIs(next, "TRANSACTION")) {
				next++
			}
			if a.wordIs(next, "PREPARED") || a.wordIs(next, "TO") {
				continue // another transaction's, or a savepoint's
			}
			c.Ends = true
			// AND CHAIN begins a new transaction at once; AND NO CHAIN
			// does not.
			c.Open = a.wordIs(next, "AND") && a.wordIs(next+1, "CHAIN")
		}
	}
	return c
}

// wordIs reports whether token i is the word w, in any case.
func (a *Analysis) wordIs(i int, w string) bool {
	if i >= len(a.Tokens) || a.Tokens[i].Kind != Word {
		return false
	}
	s := a.Tokens[i]
	return strings.EqualFold(a.SQL[s.Start:s.End], w)
}
