package memory

import (
	"fmt"
	"testing"
	"unique"

	"github.com/stretchr/testify/require"
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
