package store_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gormcache/gormcache/store"
)

func TestCompileGlob(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"", []string{""}, []string{"a"}},
		{"*", []string{"", "abc", "a\nb"}, nil},
		{"***", []string{"", "x"}, nil},
		{"abc", []string{"abc"}, []string{"ab", "abcd", "xabc", "ABC"}},
		{"a*c", []string{"ac", "abc", "abbbc", "a\nc"}, []string{"ab", "cab", "acb"}},
		{"*posts*", []string{"posts", "SELECT * FROM posts WHERE"}, []string{"post", "POSTS"}},
		{"?", []string{"a", "é", "\xff"}, []string{"", "ab"}},
		{"a?c", []string{"abc", "aéc"}, []string{"ac", "abbc"}},
		{"[abc]", []string{"a", "c"}, []string{"d", ""}},
		{"[a-c]x", []string{"bx"}, []string{"dx"}},
		{"[^a-c]", []string{"d", "é"}, []string{"a"}},
		{"[!a]", []string{"b"}, []string{"a"}},
		{"[-a]", []string{"-", "a"}, []string{"b"}},
		{"[a-]", []string{"-", "a"}, []string{"b"}},
		{`\*`, []string{"*"}, []string{"a"}},
		{`a\?`, []string{"a?"}, []string{"ab"}},
		{`\[x]`, []string{"[x]"}, []string{"x"}},
		{"*a*b*a*", []string{"aba", "xxaxxbxxaxx"}, []string{"ab", "baa"}},
		{"a*a", []string{"aa", "aaa"}, []string{"a"}},
		{"*ab?d*", []string{"xabcdx", "abxd", "aabcd"}, []string{"abd"}},
		{"*?", []string{"a"}, []string{""}},
		{"?*?", []string{"ab"}, []string{"a"}},
		{"é*", []string{"é", "éa"}, []string{"e"}},
		{"*\xff*", []string{"a\xffb", "a\uFFFDb"}, []string{"ab"}},
		{"*[é]*", []string{"aéb"}, []string{"ab"}},
		{"x" + strings.Repeat("?", 70) + "y*", []string{"x" + strings.Repeat("-", 70) + "yz"}, []string{"x" + strings.Repeat("-", 69) + "yz"}},
		{"*" + strings.Repeat("[ab]", 50) + "c*", []string{"zz" + strings.Repeat("ab", 25) + "cz"}, []string{strings.Repeat("ab", 60)}},
	}
	for _, tt := range tests {
		m, err := store.CompileGlob(tt.pattern)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", tt.pattern, err)
			continue
		}
		for _, s := range tt.match {
			if !m(s) {
				t.Errorf("%q on %q: got false, want true", tt.pattern, s)
			}
		}
		for _, s := range tt.miss {
			if m(s) {
				t.Errorf("%q on %q: got true, want false", tt.pattern, s)
			}
		}
	}
}

func TestCompileGlobErrors(t *testing.T) {
	for _, pattern := range []string{"[abc", "a\\", "[]", "[^]", "[z-a]", strings.Repeat("*", store.MaxGlobLen+1)} {
		if _, err := store.CompileGlob(pattern); !errors.Is(err, store.ErrBadGlob) {
			t.Errorf("CompileGlob(%.20q): got %v, want ErrBadGlob", pattern, err)
		}
	}
	if _, err := store.CompileGlob(strings.Repeat("*", store.MaxGlobLen)); err != nil {
		t.Errorf("a pattern of MaxGlobLen bytes: %v", err)
	}
}

// TestGlobLinear matches the patterns that make a backtracking matcher
// quadratic or worse against long texts they almost match: each must take
// about as long as a plain search.
func TestGlobLinear(t *testing.T) {
	text := strings.Repeat("a", 100_000)
	for _, pattern := range []string{
		strings.Repeat("*", 250) + "b",
		strings.Repeat("*a", 120) + "b",
		"*" + strings.Repeat("?", 250) + "b*",
		"*" + strings.Repeat("?", 60) + "b*",
		"*" + strings.Repeat("[a]", 80) + "b*",
		strings.Repeat("*a?", 80) + "*b",
	} {
		m, err := store.CompileGlob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if m(text) {
			t.Errorf("%.20q matched", pattern)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Errorf("%.20q on 100 KB: took %v", pattern, took)
		}
	}
}

// FuzzCompileGlob compares the matcher with the glob translated into a
// regular expression (as CompileGlob did before it had a matcher of its own).
func FuzzCompileGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*a*b?", "xaxbc"}, {"[a-c]*", "b"}, {`\**`, "*x"}, {"a*a*a", "aaaa"},
		{"[!x]?", "yz"}, {"*é?", "aéb"}, {"?", "\xff"}, {"**", ""}, {"[^a-]", "-"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		m, err := store.CompileGlob(pattern)
		re, reErr := globRegexp(pattern)
		if (err == nil) != (reErr == nil) {
			t.Fatalf("%q: CompileGlob: %v; regexp: %v", pattern, err, reErr)
		}
		if err != nil {
			return
		}
		if got, want := m(text), re.MatchString(text); got != want {
			t.Fatalf("%q on %q: got %v, want %v", pattern, text, got, want)
		}
	})
}

// globRegexp translates a glob into an anchored regular expression.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	if len(pattern) > store.MaxGlobLen {
		return nil, errors.New("too long")
	}
	p := []rune(pattern)
	var re strings.Builder
	re.WriteString(`^(?s:`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			re.WriteString(`.*`)
		case '?':
			re.WriteString(`.`)
		case '\\':
			if i+1 == len(p) {
				return nil, errors.New("ends with \\")
			}
			i++
			re.WriteString(regexp.QuoteMeta(string(p[i])))
		case '[':
			end := slices.Index(p[i+1:], ']')
			if end < 0 {
				return nil, errors.New("[ without ]")
			}
			set := p[i+1 : i+1+end]
			re.WriteByte('[')
			if len(set) > 0 && (set[0] == '^' || set[0] == '!') {
				re.WriteByte('^')
				set = set[1:]
			}
			if len(set) == 0 {
				return nil, errors.New("empty []")
			}
			for j := 0; j < len(set); j++ {
				if j+2 < len(set) && set[j+1] == '-' {
					fmt.Fprintf(&re, "%s-%s", regexp.QuoteMeta(string(set[j])), regexp.QuoteMeta(string(set[j+2])))
					j += 2
					continue
				}
				re.WriteString(regexp.QuoteMeta(string(set[j])))
			}
			re.WriteByte(']')
			i += end + 1
		default:
			re.WriteString(regexp.QuoteMeta(string(p[i])))
		}
	}
	re.WriteString(`)$`)
	return regexp.Compile(re.String())
}
