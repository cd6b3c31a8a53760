package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

func Example() {
	s, err := memory.New(memory.Config{MaxBytes: 16 << 20})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	deps := []store.Dep{{Table: "users"}, {Table: "users", Cond: "id=7"}}

	// A reader takes the stamps, then queries the database, then stores
	// the result with the stamps.
	stamps, _ := s.Stamps(ctx, deps)
	row := []byte(`{"id":7,"name":"Ada"}`)
	_ = s.Set(ctx, "user:7", store.Entry{Value: row, Deps: deps, Stamps: stamps}, time.Minute)
	v, ok, _ := s.Get(ctx, "user:7")
	fmt.Println(string(v), ok)

	// A write to the row renews its stamp: the entry stops validating.
	_ = s.Invalidate(ctx, store.Dep{Table: "users", Cond: "id=7"})
	_, ok, _ = s.Get(ctx, "user:7")
	fmt.Println(ok)
	// Output:
	// {"id":7,"name":"Ada"} true
	// false
}
