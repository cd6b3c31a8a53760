package redis

import (
	"strings"

	"github.com/gormcache/gormcache/store"
)

// The key layout, for a store with prefix P:
//
//	P {}e:<key>         the entry stored under key
//	P {*}epoch          the epoch
//	P {<table>}         the stamp of store.Dep{Table: table}, and the table's schemes
//	P {<table>}?<cond>  the stamp of store.Dep{Table: table, Cond: cond}
//	P {*}near           the lease registry of the Near stores (also the name of their channel)
//	P {*}near:open      the invalidations that wait for acknowledgements
//	P {*}near:w:<token> the instances one invalidation waits for
//	P {*}near:d:<token> where its last acknowledgement is pushed
//
// Every key starts with P and a brace, which no prefix holds: the pattern
// P{* matches the keys of this store and of no store whose prefix starts
// with P ("app" and "app2:"). The empty braces of an entry's key are no
// hash tag: Redis Cluster hashes the whole key, spreading entries over the
// slots.
//
// <table> is escaped so that the braces around it are the key's hash tag,
// whatever the table's name: every stamp of one table lives in one Redis
// Cluster slot. The epoch shares the slot of the table "*": the plugin's
// dependency of every entry (the one InvalidateAll renews) when its Prefix
// is empty, so that validating a hit asks one Cluster node fewer.
//
// The keys of the Near stores share the epoch's slot, so that their
// scripts and sharded channel work on one Cluster node (see near.go).
//
// Every key of an entry, a stamp or the epoch is a hash. An entry's holds
// its value in the field "v", its text (store.Entry.Text), if any, in the
// field "t", and for each dependency, the stamp recorded for it (16 hex digits) in a field
// named after the dependency's stamp key. A stamp's, and the epoch's, holds
// its raw value in the field "s" (a candidate and the server's clock: see
// freshLua); the table stamp's also
// holds a field "c:<scheme>" for each scheme of the table, so that the
// schemes are renewed and lost with it, never alone.

const (
	entryPrefix  = "{}e:"
	epochName    = "{*}epoch"
	valueField   = "v" // of an entry: its value
	textField    = "t" // of an entry: its text
	stampField   = "s" // of a stamp or the epoch: its raw value
	schemePrefix = "c:"
	nearRegistry = "{*}near"
)

func (s *Store) entryKey(key string) string { return s.cfg.Prefix + entryPrefix + key }

// nearKeys are the keys of the Near stores of a prefix.
type nearKeys struct {
	registry string // a hash: "h:<id>" for each lease, and its life (see notify.go)
	channel  string // where invalidations are published
	open     string // a sorted set of tokens, by when they stop waiting
	pending  string // the start of the keys of one invalidation's acknowledgements
}

func newNearKeys(prefix string) nearKeys {
	r := prefix + nearRegistry
	return nearKeys{registry: r, channel: r, open: r + ":open", pending: r + ":"}
}

// done is the list the last acknowledgement of the invalidation token
// pushes to. (The set of the instances the token waits for, pending+"w:"+
// token, only the scripts name.)
func (k nearKeys) done(token string) string { return k.pending + "d:" + token }

// pauseGuard returns the key, in the slot of key, that validate expires:
// one that never exists (stamp keys end with their brace or a '?').
func pauseGuard(key string) string {
	if i := strings.IndexByte(key, '}'); i >= 0 {
		return key[:i+1] + "!guard"
	}
	return key + "!guard"
}

// ownKeys is the SCAN pattern of every key of the store; entryKeys of its
// entries.
func (s *Store) ownKeys() string   { return globEscape(s.cfg.Prefix) + "{*" }
func (s *Store) entryKeys() string { return globEscape(s.cfg.Prefix+entryPrefix) + "*" }

// stampKey returns the key of d's stamp.
func (s *Store) stampKey(d store.Dep) string {
	var b strings.Builder
	b.Grow(len(s.cfg.Prefix) + len(d.Table) + len(d.Cond) + 4)
	b.WriteString(s.cfg.Prefix)
	b.WriteByte('{')
	writeTag(&b, d.Table)
	b.WriteByte('}')
	if d.Cond != "" {
		b.WriteByte('?')
		b.WriteString(d.Cond)
	}
	return b.String()
}

// tableKey returns the stamp key of the table of the stamp key k of some
// of its rows (see stampKey, whose tag holds no brace), and false when k is
// a table's stamp key.
func (s *Store) tableKey(k string) (string, bool) {
	tag := len(s.cfg.Prefix)
	end := strings.IndexByte(k[tag:], '}')
	if end < 0 || tag+end+1 == len(k) {
		return "", false
	}
	return k[:tag+end+1], true
}

// writeTag writes table so that it contains no brace and is not empty, two
// things that would break the hash tag, and so that two tables never write
// the same: '%', '{' and '}' are percent-encoded, and the empty table is a
// lone "%", which no encoding of another table is.
func writeTag(b *strings.Builder, table string) {
	if table == "" {
		b.WriteByte('%')
		return
	}
	for i := 0; i < len(table); i++ {
		switch c := table[i]; c {
		case '%':
			b.WriteString("%25")
		case '{':
			b.WriteString("%7B")
		case '}':
			b.WriteString("%7D")
		default:
			b.WriteByte(c)
		}
	}
}

// hashTag returns the part of key that Redis Cluster hashes to choose its
// slot: the text between the first '{' and the next '}' when it is not
// empty, and the whole key otherwise. Keys with equal hash tags share a slot.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// group splits keys into groups that one command may name together: one
// per hash tag on a sharded client, a single one on a single node. Each
// group lists indexes into keys, in order.
func (s *Store) group(keys []string) [][]int {
	if len(keys) == 0 {
		return nil
	}
	if s.single || len(keys) < 2 {
		all := make([]int, len(keys))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var groups [][]int
	index := make(map[string]int)
	for i, k := range keys {
		tag := hashTag(k)
		g, ok := index[tag]
		if !ok {
			g = len(groups)
			index[tag] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// pick returns the keys at the indexes of g.
func pick(keys []string, g []int) []string {
	out := make([]string, len(g))
	for i, k := range g {
		out[i] = keys[k]
	}
	return out
}
