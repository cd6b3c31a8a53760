package sqlscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// routines are trigger bodies as each database keeps them, with the tables
// they write; ok false where a statement may write a table no one names.
var routines = []struct {
	body   string
	writes []string
	ok     bool
}{
	// PL/pgSQL.
	{"BEGIN INSERT INTO audit (id, what) VALUES (NEW.id, 'x'); RETURN NEW; END;", []string{"audit"}, true},
	{"\nBEGIN\n  UPDATE counters SET n = n + 1 WHERE name = TG_TABLE_NAME;\n  RETURN NULL;\nEND;\n", []string{"counters"}, true},
	{"BEGIN NEW.updated_at := now(); RETURN NEW; END;", nil, true},
	{"BEGIN IF NEW.x > 0 THEN DELETE FROM logs WHERE id = OLD.id; ELSE INSERT INTO b VALUES (1); END IF; RETURN NEW; END", []string{"logs", "b"}, true},
	{"DECLARE v int; BEGIN INSERT INTO t VALUES (1) RETURNING id INTO v; RETURN NEW; END", []string{"t", "v"}, true},
	{"BEGIN FOR r IN SELECT * FROM x LOOP UPDATE y SET a = r.a; END LOOP; RETURN NULL; END", []string{"y"}, true},
	{"BEGIN SELECT * INTO r FROM q WHERE id = 1 FOR UPDATE; RETURN NEW; END", nil, true},
	{"BEGIN INSERT INTO t SELECT * FROM u ON CONFLICT (id) DO UPDATE SET a = 1; RETURN NEW; END", []string{"t"}, true},
	{"BEGIN WITH d AS (DELETE FROM old_rows RETURNING *) INSERT INTO archive SELECT * FROM d; RETURN NULL; END", []string{"old_rows", "archive"}, true},
	{"BEGIN CASE NEW.kind WHEN 1 THEN TRUNCATE cache_a; ELSE DELETE FROM cache_b; END CASE; RETURN NEW; END", []string{"cache_a", "cache_b"}, true},
	{"BEGIN PERFORM notify_all(); RETURN NEW; END", nil, true},
	{"BEGIN FOR r IN EXECUTE 'INSERT INTO a VALUES (1) RETURNING id' LOOP NULL; END LOOP; RETURN NULL; END", nil, false},
	{"BEGIN FOR r IN WITH d AS (DELETE FROM x RETURNING *) SELECT * FROM d LOOP NULL; END LOOP; RETURN NULL; END", []string{"x"}, true},
	{"BEGIN REFRESH MATERIALIZED VIEW user_count; RETURN NULL; END", []string{"user_count"}, true},
	{"BEGIN COPY audits (msg) FROM PROGRAM 'echo'; RETURN NULL; END", nil, false},
	{"BEGIN DO $d$ BEGIN INSERT INTO audits (msg) VALUES ('do'); END $d$; RETURN NULL; END", nil, false},
	{"BEGIN CREATE TEMP TABLE x (a int); RETURN NULL; END", nil, false},
	{"BEGIN NEW.x := replace(NEW.x, 'a', 'b'); NEW.y := INSERT(NEW.y, 1, 2, 'z'); RETURN NEW; END", nil, true},
	{"BEGIN LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE; RETURN NEW; END", nil, true},
	{"DECLARE t timestamp with time zone; BEGIN RETURN NEW; END", nil, true},
	{"BEGIN EXECUTE format('INSERT INTO %I VALUES (1)', TG_ARGV[0]); RETURN NEW; END", nil, false},
	{"BEGIN UPDATE t SET a = 1 WHERE b IN (SELECT", nil, false},
	{"BEGIN INSERT INTO 'x' VALUES (1); END", nil, false},
	// SQL functions, MySQL's bodies.
	{"INSERT INTO log (x) VALUES (NEW.id)", []string{"log"}, true},
	{"SET NEW.x = 1", nil, true},
	{"BEGIN WHILE i < 3 DO INSERT INTO z VALUES (i); SET i = i + 1; END WHILE; REPEAT DELETE FROM w; UNTIL 1 END REPEAT; END", []string{"z", "w"}, true},
	{"BEGIN CALL p(); END", nil, false},
	{"BEGIN NOT ATOMIC UPDATE items SET name = 'zed'; END", []string{"items"}, true},
	{"BEGIN DECLARE CONTINUE HANDLER FOR SQLSTATE '23000' UPDATE items SET name = 'zed'; INSERT INTO dup (id) VALUES (1); END", []string{"items", "dup"}, true},
	{"BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION INSERT INTO audits (msg) VALUES ('h'); SIGNAL SQLSTATE '45000'; END", []string{"audits"}, true},
	{"BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'DELETE FROM t'; END", nil, false},
	{"BEGIN PREPARE s FROM @q; EXECUTE s; END", nil, false},
	// SQLite's CREATE TRIGGER: its header runs nothing.
	{"CREATE TRIGGER t AFTER UPDATE OF x ON a WHEN (new.x > 0) BEGIN INSERT INTO log (x) VALUES (new.id); UPDATE a SET y = 1 WHERE id = new.id; END", []string{"log", "a"}, true},
	{`CREATE TRIGGER "delete" BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, 'no'); END`, nil, true},
	// PostgreSQL's rules, as pg_get_ruledef gives them.
	{"CREATE RULE r AS\n    ON INSERT TO public.users DO  INSERT INTO audits (msg)\n  VALUES ('rule'::text);", []string{"audits"}, true},
	{"CREATE RULE r AS ON UPDATE TO users DO ALSO (INSERT INTO a VALUES (1); DELETE FROM b)", []string{"a", "b"}, true},
	{"CREATE RULE r AS ON DELETE TO v DO INSTEAD NOTHING", nil, true},
	{"", nil, true},
}

func TestRoutineWrites(t *testing.T) {
	for _, r := range routines {
		writes, ok := RoutineWrites(r.body)
		assert.Equal(t, r.ok, ok, "%q", r.body)
		if r.ok {
			assert.Equal(t, r.writes, writes, "%q", r.body)
		}
	}
}

func TestTriggerEvent(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE TRIGGER t AFTER UPDATE OF x ON a BEGIN DELETE FROM b; END":           "UPDATE",
		"create temp trigger if not exists t before insert on a begin select 1; end": "INSERT",
		`CREATE TRIGGER "t" INSTEAD OF DELETE ON v BEGIN UPDATE a SET x = 1; END`:    "DELETE",
		"CREATE TRIGGER t ON a BEGIN INSERT INTO b VALUES (1); END":                  "",
	} {
		assert.Equal(t, want, TriggerEvent(sql), sql)
	}
}

// FuzzRoutineWrites checks that RoutineWrites never panics, and that every
// table it reports is a normalized name.
func FuzzRoutineWrites(f *testing.F) {
	for _, r := range routines {
		f.Add(r.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		writes, ok := RoutineWrites(body)
		if !ok {
			require.Empty(t, writes)
		}
		for _, w := range writes {
			require.Equal(t, NormalizeTable(w), w)
		}
		_ = TriggerEvent(body)
	})
}
