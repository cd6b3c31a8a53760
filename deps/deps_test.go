package deps_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/deps"
)

func TestConj(t *testing.T) {
	for _, tc := range []struct {
		conj        deps.Conj
		scheme, key string
	}{
		{nil, "", ""},
		{deps.Conj{{Column: "id", Value: "i1"}}, "id", "id=i1"},
		{deps.Conj{{Column: "status", Value: "i2"}, {Column: "user_id", Value: "i5"}}, "status,user_id", "status=i2&user_id=i5"},
		{deps.Conj{{Column: "name", Value: "sa&b=c d%"}}, "name", "name=sa%26b%3Dc+d%25"},
		{deps.Conj{{Column: "a", Value: "s&b=sx"}}, "a", "a=s%26b%3Dsx"},
		{deps.Conj{{Column: "a", Value: "s"}, {Column: "b", Value: "sx"}}, "a,b", "a=s&b=sx"},
	} {
		assert.Equal(t, tc.scheme, tc.conj.Scheme())
		assert.Equal(t, tc.key, tc.conj.Key())
	}
	assert.True(t, deps.Table{Conjs: []deps.Conj{{}}}.Any())
	assert.False(t, deps.Table{Conjs: []deps.Conj{{{Column: "id", Value: "i1"}}}}.Any())
}

func TestTermString(t *testing.T) {
	for _, tc := range []struct {
		term deps.Term
		want string
	}{
		{deps.Term{Column: "author_id", Value: "i3"}, "author_id = 3"},
		{deps.Term{Column: "balance", Value: "i-42"}, "balance = -42"},
		{deps.Term{Column: "id", Value: "i18446744073709551615"}, "id = 18446744073709551615"},
		{deps.Term{Column: "title", Value: "sit's"}, "title = 'it''s'"},
		{deps.Term{Column: "title", Value: "s"}, "title = ''"},
		{deps.Term{Column: "deleted_at", Value: "n"}, "deleted_at IS NULL"},
		{deps.Term{Column: "active", Value: "b1"}, "active = true"},
		{deps.Term{Column: "active", Value: "b0"}, "active = false"},
		{deps.Term{Column: "my col", Value: "i1"}, `"my col" = 1`},
		{deps.Term{Column: `a"b`, Value: "i1"}, `"a""b" = 1`},
		{deps.Term{Column: "2fa", Value: "b1"}, `"2fa" = true`},
		{deps.Term{Column: "id", Value: "i05"}, `id (invalid value "i05")`},
		{deps.Term{Column: "id", Value: ""}, `id (invalid value "")`},
		{deps.Term{Column: "id", Value: "x"}, `id (invalid value "x")`},
	} {
		assert.Equal(t, tc.want, tc.term.String())
	}
	assert.Equal(t, "TRUE", deps.Conj{}.String())
	assert.Equal(t, "status = 2 AND user_id = 5",
		deps.Conj{{Column: "status", Value: "i2"}, {Column: "user_id", Value: "i5"}}.String())
}

func TestParseConj(t *testing.T) {
	for _, c := range []deps.Conj{
		nil,
		{{Column: "id", Value: "i1"}},
		{{Column: "status", Value: "i2"}, {Column: "user_id", Value: "i5"}},
		{{Column: "name", Value: "sa&b=c d%+é\x00"}},
		{{Column: "a", Value: "s"}, {Column: "b", Value: "n"}, {Column: "c", Value: "b0"}, {Column: "d", Value: "b1"}},
		{{Column: "my col=&", Value: "i-9223372036854775808"}, {Column: "n", Value: "i18446744073709551615"}},
	} {
		got, err := deps.ParseConj(c.Key())
		require.NoError(t, err, c.Key())
		assert.Equal(t, c, got, c.Key())
	}
	for _, key := range []string{
		"id",                       // no value
		"=i1",                      // no column
		"id=i1&",                   // an empty term
		"id=i1&id=i2",              // a column twice
		"b=i1&a=i2",                // out of order
		"a%2Cb=i1",                 // a comma: the Scheme separator
		"id=i01",                   // not canonical: a leading zero
		"id=i+1",                   // a plus
		"id=i-0",                   // minus zero
		"id=i18446744073709551616", // out of range
		"id=i",                     // no digits
		"id=x1",                    // no such class
		"id=b2",                    // not a boolean
		"id=nx",                    // NULL with a value
		"id=",                      // no value
		"name=sa%20b",              // a space escaped as %20, not +
		"name=s%61",                // an escaped letter
		"name=s%zz",                // a bad escape
		"n%61me=sa",                // an escaped letter in a column
		"name=sa=b",                // an unescaped =
	} {
		_, err := deps.ParseConj(key)
		assert.Error(t, err, key)
	}
}

// FuzzParseConj checks that ParseConj never panics and inverts Key: what
// it accepts is the Key of what it returns.
func FuzzParseConj(f *testing.F) {
	for _, key := range []string{
		"", "id=i1", "status=i2&user_id=i5", "name=sa%26b%3Dc+d%25", "a=s&b=n&c=b1",
		"id=i-5", "id=i05", "b=i1&a=i2", "name=sa%20b", "my+col=sx",
	} {
		f.Add(key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		c, err := deps.ParseConj(key)
		if err != nil {
			return
		}
		require.Equal(t, key, c.Key())
		again, err := deps.ParseConj(c.Key())
		require.NoError(t, err)
		require.Equal(t, c, again)
		for _, term := range c {
			require.Equal(t, term.Value == "n", strings.HasSuffix(term.String(), " IS NULL"), term.String())
		}
	})
}
