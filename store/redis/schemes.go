package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gormcache/gormcache/store"
)

var (
	_ store.SchemeRegistry = (*Store)(nil)
	_ store.SchemeRegistry = (*TwoLevel)(nil)
)

// AddSchemes implements store.SchemeRegistry: one script call on the table
// stamp's key, which holds the schemes (see the key layout), so they are
// renewed, expire and are evicted with it. One round trip.
func (s *Store) AddSchemes(ctx context.Context, table string, schemes []string) error {
	args := make([]any, 3+len(schemes))
	args[0] = strconv.FormatInt(s.cfg.StampTTL.Milliseconds(), 10)
	args[1] = strconv.FormatUint(s.next(1), 10)
	args[2] = store.MaxSchemes
	for i, sc := range schemes {
		args[3+i] = sc
	}
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	fits, err := addSchemesScript.Run(ctx, s.client, []string{s.stampKey(store.Dep{Table: table})}, args...).Int()
	if err != nil {
		return fmt.Errorf("gormcache: redis: add schemes: %w", err)
	}
	if fits == 0 {
		return store.ErrTooManySchemes
	}
	return nil
}

// Schemes implements store.SchemeRegistry. One round trip.
func (s *Store) Schemes(ctx context.Context, table string) ([]string, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	fields, err := s.client.HKeys(ctx, s.stampKey(store.Dep{Table: table})).Result()
	if err != nil {
		return nil, fmt.Errorf("gormcache: redis: schemes: %w", err)
	}
	var schemes []string
	for _, f := range fields {
		if sc, ok := strings.CutPrefix(f, schemePrefix); ok {
			schemes = append(schemes, sc)
		}
	}
	return schemes, nil
}

// AddSchemes is Store.AddSchemes.
func (t *TwoLevel) AddSchemes(ctx context.Context, table string, schemes []string) error {
	return t.remote.AddSchemes(ctx, table, schemes)
}

// Schemes is Store.Schemes.
func (t *TwoLevel) Schemes(ctx context.Context, table string) ([]string, error) {
	return t.remote.Schemes(ctx, table)
}
