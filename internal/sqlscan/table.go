package sqlscan

// NormalizeTable returns the name Analyze reports for a table written as
// name — quoted or not, schema-qualified or not ("public"."Photos" gives
// photos) — or "" when name is not a table name.
func NormalizeTable(name string) string {
	l := NewLexer(name)
	var last Token
	for {
		t := l.Next()
		switch t.Kind {
		case EOF:
			if last.Text == "" {
				return ""
			}
			n, _ := normalize(last)
			return n
		case Word, QuotedIdent:
			last = t
		case Dot:
		default:
			return ""
		}
	}
}
