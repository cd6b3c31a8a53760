package deps_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
