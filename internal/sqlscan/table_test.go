package sqlscan

import (
	"strings"
	"testing"
)

func TestNormalizeTable(t *testing.T) {
	cases := map[string]string{
		"photos":              "photos",
		`"Photos"`:            "photos",
		"`user_tags`":         "user_tags",
		`public.photos`:       "photos",
		`"my schema"."Photo"`: "photo",
		"a b":                 "",
		"a.":                  "",
		".a":                  "",
		"":                    "",
		"(select 1)":          "",
		"photos;":             "",
	}
	for in, want := range cases {
		if got := NormalizeTable(in); got != want {
			t.Errorf("NormalizeTable(%q): got %q, want %q", in, got, want)
		}
		if want != "" {
			if got := Analyze("SELECT * FROM " + in).Reads; len(got) != 1 || got[0] != want {
				t.Errorf("Analyze reads %v for table %q, NormalizeTable gives %q", got, in, want)
			}
		}
	}
}

// TestModelTable checks that the name of a GORM schema's table, quoted as
// GORM quotes it, reads as ModelTable names it.
func TestModelTable(t *testing.T) {
	cases := map[string]string{
		"photos":        "photos",
		"Photos":        "photos",
		"audit-log":     "audit-log",
		"a{b}%c":        "a{b}%c",
		"my table":      "my table",
		"reports.Audit": "audit",
		`bad"name`:      "",
		"":              "",
	}
	for in, want := range cases {
		if got := ModelTable(in); got != want {
			t.Errorf("ModelTable(%q): got %q, want %q", in, got, want)
		}
		if want == "" {
			continue
		}
		quoted := `"` + strings.ReplaceAll(in, ".", `"."`) + `"`
		if got := Analyze("SELECT * FROM " + quoted).Reads; len(got) != 1 || got[0] != want {
			t.Errorf("Analyze reads %v for table %s, ModelTable gives %q", got, quoted, want)
		}
	}
}
