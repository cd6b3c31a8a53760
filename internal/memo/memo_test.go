package memo

import (
	"fmt"
	"sync"
	"testing"
)

func TestGetAdd(t *testing.T) {
	m := New(100, func(k string, v int) int64 { return int64(len(k)) })
	if _, ok := m.Get("a"); ok {
		t.Fatal("an empty Map holds a value")
	}
	m.Add("a", 1)
	m.Add("a", 2) // the first value computed stays
	if v, ok := m.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %v, %v; want 1, true", v, ok)
	}
}

// TestReplace checks that Replace takes the place of the value held, and
// counts the difference of their weights against the bound.
func TestReplace(t *testing.T) {
	m := New(10, func(k string, v int) int64 { return int64(v) })
	m.Add("a", 4)
	m.Replace("a", 6)
	if v, _ := m.Get("a"); v != 6 {
		t.Fatalf("Get(a) = %d after Replace, want 6", v)
	}
	m.Add("b", 4) // 6 + 4 = 10: both kept
	if _, ok := m.Get("a"); !ok {
		t.Fatal("Replace counted both values of a")
	}
	m.Replace("b", 5) // 11 > 10: only b is kept
	if _, ok := m.Get("a"); ok {
		t.Error("a kept past the bound")
	}
	m.Replace("b", 11)
	if _, ok := m.Get("b"); ok {
		t.Error("a value heavier than the bound kept, or the one it replaces")
	}
}

// TestBound checks that the weight of what a Map holds never passes its
// bound: when it would, the Map keeps only the value added last.
func TestBound(t *testing.T) {
	m := New(10, func(k string, v int) int64 { return int64(v) })
	m.Add("a", 4)
	m.Add("b", 4)
	m.Add("c", 4) // 12 > 10: a and b are forgotten
	for k, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if _, ok := m.Get(k); ok != want {
			t.Errorf("after the bound: Get(%s) found %v, want %v", k, ok, want)
		}
	}
	m.Add("d", 6) // 10: kept with c
	if _, ok := m.Get("c"); !ok {
		t.Error("c forgotten at the bound, not past it")
	}
	m.Add("heavy", 11)
	if _, ok := m.Get("heavy"); ok {
		t.Error("a value heavier than the bound is kept")
	}
	if _, ok := m.Get("d"); !ok {
		t.Error("a value heavier than the bound made the Map forget")
	}
}

// TestConcurrent adds and reads from many goroutines (run with -race):
// every value read is the one computed for its key.
func TestConcurrent(t *testing.T) {
	m := New(64, func(int, string) int64 { return 1 })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := (i * (g + 1)) % 200
				if v, ok := m.Get(k); ok && v != fmt.Sprint(k) {
					t.Errorf("Get(%d) = %q", k, v)
					return
				}
				m.Add(k, fmt.Sprint(k))
			}
		})
	}
	wg.Wait()
}
