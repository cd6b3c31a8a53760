package gormcache

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gormcache/gormcache/store"
)

func TestDedupe(t *testing.T) {
	dep := func(i int) store.Dep { return store.Dep{Table: "t", Cond: fmt.Sprint("id=i", i)} }
	for _, n := range []int{0, 1, 5, 16, 17, 100} { // pairwise up to 16, by a map above
		var deps, want []store.Dep
		for i := range n {
			deps = append(deps, dep(i), dep(i/2))
			if !slices.Contains(want, dep(i)) {
				want = append(want, dep(i))
			}
			if !slices.Contains(want, dep(i/2)) {
				want = append(want, dep(i/2))
			}
		}
		got := dedupe(deps)
		if !slices.Equal(got, want) {
			t.Errorf("%d: got %v, want %v", n, got, want)
		}
		if len(got) > 0 && cap(got) != len(got) {
			t.Errorf("%d: cap %d, want %d: an append must not write over deps", n, cap(got), len(got))
		}
	}
}
