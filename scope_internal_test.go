package gormcache

import (
	"fmt"
	"testing"

	"github.com/gormcache/gormcache/store"
)

// TestScopeCache drives one scope's answers with the log of invalidations
// directly: what a renewal drops, what it leaves, an answer raced by a
// renewal, the index staying bounded under churn, and a scope behind the
// log.
func TestScopeCache(t *testing.T) {
	global, users := store.Dep{Table: "*"}, store.Dep{Table: "users"}
	user := func(id int) store.Dep { return store.Dep{Table: "users", Cond: fmt.Sprint("id=", id)} }
	photos := store.Dep{Table: "photos"}
	var s scopes
	c := s.newCache(1 << 20)
	kept := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := c.get(k); !ok {
				t.Errorf("%s: not kept, want kept", k)
			}
		}
	}
	dropped := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := c.get(k); ok {
				t.Errorf("%s: kept, want dropped", k)
			}
		}
	}
	keep := func(key string, deps ...store.Dep) {
		c.keep(key, []byte(key), deps, c.position())
	}

	keep("user 1", global, users, user(1))
	keep("user 2", global, users, user(2))
	keep("photos", global, photos)
	s.log.append([]store.Dep{user(1)})
	dropped("user 1")
	kept("user 2", "photos")

	// An answer whose dependency was renewed while it was looked up.
	since := c.position()
	s.log.append([]store.Dep{user(3)})
	c.keep("user 3", []byte("user 3"), []store.Dep{global, users, user(3)}, since)
	dropped("user 3")

	// Answers kept and dropped again and again stay listed under users
	// and global until compacted.
	for i := 10; i < 1010; i++ {
		keep("churn", global, users, user(i))
		s.log.append([]store.Dep{user(i)})
		dropped("churn")
	}
	if c.listed > 2*c.live+64+3 {
		t.Errorf("after churn: %d answers listed, %d live", c.listed, c.live)
	}
	kept("user 2", "photos")

	s.log.append([]store.Dep{users})
	dropped("user 2")
	kept("photos")
	s.log.append([]store.Dep{global})
	dropped("photos")
	if c.size != 0 || c.live != 0 {
		t.Errorf("nothing kept: got size %d and %d live", c.size, c.live)
	}

	keep("photos", global, photos)
	for i := range logSize + 1 {
		s.log.append([]store.Dep{{Table: fmt.Sprint("elsewhere", i)}})
	}
	dropped("photos")
}
