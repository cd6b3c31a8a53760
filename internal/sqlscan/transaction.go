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
		next := a.wordsAfter(i)
		switch s.Keyword {
		case KwBegin:
			if len(next) > 0 && next[0] == "NOT" {
				return c
			}
			c.Begins, c.Open = true, true
		case KwStart:
			if len(next) > 0 && next[0] == "TRANSACTION" {
				c.Begins, c.Open = true, true
			}
		case KwCommit, KwEnd, KwRollback, KwAbort:
			if s.Keyword == KwCommit || s.Keyword == KwRollback {
				if len(next) > 0 && (next[0] == "WORK" || next[0] == "TRANSACTION") {
					next = next[1:]
				}
				if len(next) > 0 && (next[0] == "PREPARED" || next[0] == "TO") {
					continue
				}
			}
			c.Ends = true
			// AND CHAIN begins a new transaction at once; AND NO CHAIN
			// does not.
			c.Open = len(next) > 1 && next[0] == "AND" && next[1] == "CHAIN"
		}
	}
	return c
}

// wordsAfter returns the words (upper-cased) that follow token i in its
// statement, up to the first token that is not a word.
func (a *Analysis) wordsAfter(i int) []string {
	var words []string
	for _, s := range a.Tokens[i+1:] {
		if s.Kind != Word {
			break
		}
		words = append(words, strings.ToUpper(a.SQL[s.Start:s.End]))
	}
	return words
}
