package memory

import (
	"context"
	"slices"

	"github.com/gormcache/gormcache/store"
)

var _ store.SchemeRegistry = (*Store)(nil)

// registry is a table's schemes and the table stamp they were registered
// under.
type registry struct {
	stamp   store.Stamp
	schemes []string
}

// AddSchemes implements store.SchemeRegistry. The table's stamp is taken
// under the registry's lock: a registration that took an older stamp must
// not replace one made under a newer stamp (an invalidation in between),
// which would lose schemes that entries of the newer stamp rely on.
func (s *Store) AddSchemes(_ context.Context, table string, schemes []string) error {
	s.schemesMu.Lock()
	defer s.schemesMu.Unlock()
	stamp := s.stamp(store.Dep{Table: table})
	reg := s.schemes[table]
	if reg == nil || reg.stamp != stamp {
		reg = &registry{stamp: stamp}
		s.schemes[table] = reg
	}
	for _, sc := range schemes {
		if slices.Contains(reg.schemes, sc) {
			continue
		}
		if len(reg.schemes) >= store.MaxSchemes {
			return store.ErrTooManySchemes
		}
		reg.schemes = append(reg.schemes, sc)
	}
	return nil
}

// Schemes implements store.SchemeRegistry.
func (s *Store) Schemes(_ context.Context, table string) ([]string, error) {
	stamp := s.stamp(store.Dep{Table: table})
	s.schemesMu.Lock()
	defer s.schemesMu.Unlock()
	reg := s.schemes[table]
	if reg == nil || reg.stamp != stamp {
		return nil, nil
	}
	return slices.Clone(reg.schemes), nil
}
