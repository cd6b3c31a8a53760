package memory

import (
	"fmt"
	"testing"
	"time"
	"unique"

	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache/store"
)

// TestTextHandle checks that textHandle gives every text its one handle,
// for more texts than it has slots, each text met twice in strings of
// their own.
func TestTextHandle(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	first := map[string]unique.Handle[string]{}
	for round := range 2 {
		for i := range 4 * textSlots {
			text := fmt.Sprintf("SELECT * FROM t%d", i)
			h := s.textHandle(text)
			require.Equal(t, text, h.Value())
			if round == 0 {
				first[text] = h
			} else {
				require.Equal(t, first[text], h, "text %q", text)
			}
		}
	}
	require.Equal(t, unique.Handle[string]{}, s.textHandle(""))
}

// TestUpkeepBound checks that the writes not yet upkept take the entries
// past their bounds by at most what the upkeep allows: upkeepWrites
// entries, or 1/upkeepSlack of MaxBytes.
func TestUpkeepBound(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		size int
	}{
		{"MaxEntries", Config{MaxEntries: 10}, 10},
		{"MaxBytes", Config{MaxBytes: 1 << 20}, 4 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			require.NoError(t, err)
			defer s.Close()
			value := make([]byte, tt.size)
			for i := range 1000 {
				require.NoError(t, s.Set(t.Context(), fmt.Sprint(i), store.Entry{Value: value}, time.Hour))
				if n := s.entries.EstimatedSize(); n > s.cfg.MaxEntries+upkeepWrites {
					t.Fatalf("after %d writes: %d entries, MaxEntries %d", i+1, n, s.cfg.MaxEntries)
				}
				held := int64(s.entries.EstimatedSize()) * int64(tt.size+entryOverhead)
				if limit := s.cfg.MaxBytes + s.cfg.MaxBytes/upkeepSlack + int64(tt.size+entryOverhead); held > limit {
					t.Fatalf("after %d writes: about %d bytes held, MaxBytes %d", i+1, held, s.cfg.MaxBytes)
				}
			}
			require.LessOrEqual(t, s.Len(), s.cfg.MaxEntries)
			require.LessOrEqual(t, s.Bytes(), s.cfg.MaxBytes)
		})
	}
}
