package memory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

// fill stores n entries "k00000".. with growing values, one second apart,
// each depending on table "t" and on its own row.
func fill(tb testing.TB, s *memory.Store, clock *fakeClock, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		deps := []store.Dep{{Table: "t"}, {Table: "t", Cond: fmt.Sprintf("id=%d", i)}}
		stamps, err := s.Stamps(ctx, deps)
		require.NoError(tb, err)
		value := make([]byte, i%50)
		require.NoError(tb, s.Set(ctx, fmt.Sprintf("k%05d", i), store.Entry{Value: value, Deps: deps, Stamps: stamps}, time.Hour+time.Duration(i%7)*time.Minute))
		if clock != nil {
			clock.Advance(time.Second)
		}
	}
}

// listAll pages through the whole listing and returns the keys in order.
func listAll(t *testing.T, s *memory.Store, opts store.ListOptions) []string {
	t.Helper()
	var keys []string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "listing does not end")
		page, err := s.List(context.Background(), opts)
		require.NoError(t, err)
		for _, e := range page.Entries {
			keys = append(keys, e.Key)
		}
		if page.Next == "" {
			return keys
		}
		require.NotEmpty(t, page.Entries, "a page with a Next is empty")
		opts.Cursor = page.Next
	}
}

func TestListPages(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, memory.Config{Clock: clock})
	fill(t, s, clock, 250)
	s.CleanUp()

	all := listAll(t, s, store.ListOptions{Limit: 7})
	require.Len(t, all, 250)
	require.True(t, slices.IsSorted(all), "keys not sorted")

	age := listAll(t, s, store.ListOptions{Limit: 30, Sort: store.SortAge})
	require.Len(t, age, 250)
	if got, want := age[0], "k00249"; got != want {
		t.Errorf("newest: got %v, want %v", got, want)
	}

	size := listAll(t, s, store.ListOptions{Limit: 100, Sort: store.SortSize})
	require.Len(t, size, 250)
	first, _, _, _ := s.Inspect(context.Background(), size[0])
	last, _, _, _ := s.Inspect(context.Background(), size[len(size)-1])
	if first.Size < last.Size {
		t.Errorf("size order: first %d < last %d", first.Size, last.Size)
	}

	ttl := listAll(t, s, store.ListOptions{Sort: store.SortTTL})
	require.Len(t, ttl, 250)

	odd := listAll(t, s, store.ListOptions{Limit: 10, Filter: func(in store.EntryInfo, v []byte) bool { return len(v)%2 == 1 }})
	require.Len(t, odd, 125)
}

// TestListCount checks the count of selected entries and the position of
// each page, in both directions, with Match and Filter.
func TestListCount(t *testing.T) {
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 100)
	s.CleanUp()
	odd := func(key, _ string, _ []byte) bool { return key[len(key)-1]%2 == 1 }
	for _, opts := range []store.ListOptions{
		{Limit: 7},
		{Limit: 7, Reverse: true},
		{Limit: 10, Sort: store.SortSize, Match: odd},
		{Limit: 10, Sort: store.SortAge, Reverse: true, Filter: func(in store.EntryInfo, _ []byte) bool { return odd(in.Key, "", nil) }},
	} {
		want := 100
		if opts.Match != nil || opts.Filter != nil {
			want = 50
		}
		var keys []string
		for {
			page, err := s.List(context.Background(), opts)
			require.NoError(t, err)
			require.Equal(t, &store.ListCount{Total: want, Before: len(keys)}, page.Count)
			for _, e := range page.Entries {
				keys = append(keys, e.Key)
			}
			if page.Next == "" {
				break
			}
			opts.Cursor = page.Next
		}
		require.Len(t, keys, want)
		if opts.Sort == store.SortKey {
			sorted := slices.IsSorted(keys)
			if opts.Reverse {
				slices.Reverse(keys)
				require.True(t, slices.IsSorted(keys), "keys not in reverse order")
			} else {
				require.True(t, sorted, "keys not sorted")
			}
		}
	}
	_, err := s.List(context.Background(), store.ListOptions{Cursor: listFirst(t, s, store.ListOptions{Limit: 1}).Next, Reverse: true})
	require.ErrorIs(t, err, store.ErrBadCursor, "a cursor of the other direction")
}

func listFirst(t *testing.T, s *memory.Store, opts store.ListOptions) store.ListPage {
	t.Helper()
	page, err := s.List(context.Background(), opts)
	require.NoError(t, err)
	return page
}

// TestListContext checks that a listing stops when its context is done,
// within a few thousand entries.
func TestListContext(t *testing.T) {
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 5000)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := s.List(ctx, store.ListOptions{Match: func(string, string, []byte) bool {
		if calls++; calls == 10 {
			cancel()
		}
		return true
	}})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, calls, 2500)
}

func TestListValues(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 30) // values of 0, 1, 2... bytes

	page, err := s.List(ctx, store.ListOptions{Limit: 10, Values: true})
	require.NoError(t, err)
	require.Len(t, page.Entries, 10)
	require.Len(t, page.Values, 10)
	for i, in := range page.Entries {
		_, want, _, err := s.Inspect(ctx, in.Key)
		require.NoError(t, err)
		require.Equal(t, want, page.Values[i], "value listed for %s", in.Key)
	}
	page, err = s.List(ctx, store.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Nil(t, page.Values, "values listed without being asked for")
}

func TestListValidity(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 3)
	require.NoError(t, s.Invalidate(ctx, store.Dep{Table: "t", Cond: "id=1"}))

	page, err := s.List(ctx, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Entries, 3)
	for _, e := range page.Entries {
		if got, want := e.Valid, e.Key != "k00001"; got != want {
			t.Errorf("%s valid: got %v, want %v", e.Key, got, want)
		}
	}
	// Inspecting shows the stamp the write gave the dep.
	info, value, ok, err := s.Inspect(ctx, "k00001")
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, value, 1)
	require.False(t, info.Valid)
	require.NotEqual(t, info.Stamps[1], info.Current[1])

	n, err := s.Purge(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, _, ok, _ = s.Inspect(ctx, "k00001")
	require.False(t, ok)
}

func TestListBadOptions(t *testing.T) {
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 3)
	for _, c := range []string{"!!", "eGV5", "aw"} {
		_, err := s.List(context.Background(), store.ListOptions{Cursor: c})
		if !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: got %v, want ErrBadCursor", c, err)
		}
	}
	page, err := s.List(context.Background(), store.ListOptions{Limit: 1, Sort: store.SortAge})
	require.NoError(t, err)
	_, err = s.List(context.Background(), store.ListOptions{Cursor: page.Next})
	require.ErrorIs(t, err, store.ErrBadCursor, "a cursor of another sort order")
	_, err = s.List(context.Background(), store.ListOptions{Sort: "visits"})
	require.Error(t, err)
}

func TestListHits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, memory.Config{})
	fill(t, s, nil, 250)
	// Entry i is hit i%13 times; entry 7 is invalid, and a Get that finds
	// it so is no hit (and removes it).
	hits := map[string]int64{}
	for i := range 250 {
		k := fmt.Sprintf("k%05d", i)
		for range i % 13 {
			_, ok, err := s.Get(ctx, k)
			require.NoError(t, err)
			require.True(t, ok)
		}
		hits[k] = int64(i % 13)
	}
	require.NoError(t, s.Invalidate(ctx, store.Dep{Table: "t", Cond: "id=7"}))
	_, ok, _ := s.Get(ctx, "k00007")
	require.False(t, ok)
	delete(hits, "k00007")

	info, _, ok, err := s.Inspect(ctx, "k00012")
	require.NoError(t, err)
	require.True(t, ok)
	if got, want := info.Hits, int64(12); got != want {
		t.Errorf("Inspect: Hits: got %v, want %v", got, want)
	}

	// Pages of 7 across every tie: most hits first, then by key.
	var got []store.EntryInfo
	opts := store.ListOptions{Limit: 7, Sort: store.SortHits}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "listing does not end")
		page, err := s.List(ctx, opts)
		require.NoError(t, err)
		got = append(got, page.Entries...)
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}
	require.Len(t, got, len(hits))
	for i, e := range got {
		if e.Hits != hits[e.Key] {
			t.Errorf("%s: Hits: got %v, want %v", e.Key, e.Hits, hits[e.Key])
		}
		if i > 0 {
			prev := got[i-1]
			if prev.Hits < e.Hits || prev.Hits == e.Hits && prev.Key >= e.Key {
				t.Errorf("order: %s (%d hits) before %s (%d hits)", prev.Key, prev.Hits, e.Key, e.Hits)
			}
		}
	}
	if got[0].Hits != 12 || got[len(got)-1].Hits != 0 {
		t.Errorf("first and last: got %d and %d hits, want 12 and 0", got[0].Hits, got[len(got)-1].Hits)
	}

	// A Set starts the count anew; Inspect and List count nothing.
	fill(t, s, nil, 1)
	info, _, _, _ = s.Inspect(ctx, "k00000")
	require.Zero(t, info.Hits)
	page, err := s.List(ctx, store.ListOptions{Limit: 1, Sort: store.SortHits})
	require.NoError(t, err)
	require.Equal(t, int64(12), page.Entries[0].Hits)

	// Counting stays free: Get's only allocation is the copy it returns.
	if allocs := testing.AllocsPerRun(100, func() { s.Get(ctx, "k00012") }); allocs != 1 {
		t.Errorf("Get: got %v allocations, want 1", allocs)
	}
}

// BenchmarkList lists pages of 100 entries out of 100,000 (the admin's entry
// browser), each resuming at the previous one's cursor, in each order.
func BenchmarkList(b *testing.B) {
	s := newStore(b, memory.Config{MaxBytes: 1 << 30, MaxEntries: 200_000})
	fill(b, s, nil, 100_000)
	s.CleanUp()
	ctx := context.Background()
	for _, order := range []string{store.SortKey, store.SortAge, store.SortHits} {
		b.Run("sort="+order, func(b *testing.B) {
			var cursor string
			for b.Loop() {
				page, err := s.List(ctx, store.ListOptions{Limit: 100, Sort: order, Cursor: cursor})
				if err != nil || len(page.Entries) != 100 {
					b.Fatalf("got %d entries, %v", len(page.Entries), err)
				}
				cursor = page.Next
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/page")
		})
	}
}

func TestReport(t *testing.T) {
	s := newStore(t, memory.Config{MaxBytes: 1 << 20, MaxEntries: 10})
	fill(t, s, nil, 15)
	// Reads store no stamps: only the three deps written have one.
	require.NoError(t, s.Invalidate(t.Context(), store.Dep{Table: "t"}, store.Dep{Table: "t", Cond: "id=1"}, store.Dep{Table: "u"}))
	s.CleanUp()
	facts, err := s.Report(context.Background())
	require.NoError(t, err)
	require.Len(t, facts, 4)
	var kept, evicted int
	_, err = fmt.Sscanf(facts[1].Value, "%d of 10 (MaxEntries)", &kept)
	require.NoError(t, err, facts[1].Value)
	_, err = fmt.Sscanf(facts[2].Value, "%d entries since the store was made", &evicted)
	require.NoError(t, err, facts[2].Value)
	require.Equal(t, 15, kept+evicted, "entries kept and evicted")
	require.GreaterOrEqual(t, evicted, 5)
	require.Equal(t, store.Fact{Name: "Stamps stored by writes", Value: "3 of 1000000 (MaxStamps)"}, facts[3])
	require.Regexp(t, `^\d\.\d MiB of 1\.0 MiB \(MaxBytes\), \d+%$`, facts[0].Value)
}
