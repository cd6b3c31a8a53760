package sqlscan

import "strings"

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

// ModelTable returns the name Analyze reports for the table of a GORM
// schema, whose name GORM quotes whole, component by component ("audit-log"
// is one name, "reports.Audit" the table Audit of schema reports): its last
// component, lowercased. Names with a quote character inside are not table
// names Analyze reports: "" then.
func ModelTable(name string) string {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" || strings.ContainsAny(last, "\"`[]") {
		return ""
	}
	return strings.ToLower(last)
}
