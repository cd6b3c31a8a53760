package sqlscan

// NormalizeTable returns the name Analyze reports for a table written as
// name — quoted or not, schema-qualified or not ("public"."Photos" gives
// photos) — or "" when name is not a table name.
func NormalizeTable(name string) string {
	l := NewLexer(name)
	var last Token
	wantName := true
	for {
		t := l.Next()
		switch {
		case t.Kind == EOF && !wantName:
			n, _ := normalize(last)
			return n
		case (t.Kind == Word || t.Kind == QuotedIdent) && wantName:
			last, wantName = t, false
		case t.Kind == Dot && !wantName:
			wantName = true
		default:
			return ""
		}
	}
}
