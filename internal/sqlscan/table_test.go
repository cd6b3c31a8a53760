package sqlscan

import "testing"

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
