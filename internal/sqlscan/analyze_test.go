package sqlscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Shorthands for the catalogue's expected analyses.
func query(reads ...string) Analysis {
	return Analysis{Reads: list(reads), ReadOnly: true, Harmless: true}
}

// ddl marks SQL that changes a table's or view's definition.
func ddl(a Analysis) Analysis {
	a.DDL = true
	return a
}

// volatile marks a query whose result must not be cached.
func volatile(a Analysis) Analysis {
	a.Volatile = true
	return a
}

func harmless(reads ...string) Analysis { return Analysis{Reads: list(reads), Harmless: true} }

func locking(reads ...string) Analysis {
	return Analysis{Reads: list(reads), Locking: true, Harmless: true}
}

func writes(w []string, reads ...string) Analysis {
	return Analysis{Writes: w, Reads: list(reads)}
}

func unknown(w []string, reads ...string) Analysis {
	return Analysis{Writes: w, Reads: list(reads), Unknown: true}
}

func list(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func w(names ...string) []string { return names }

// catalogue is the reference behavior of Analyze. FuzzAnalyze seeds from it.
var catalogue = []struct {
	sql  string
	want Analysis
}{
	// What GORM generates.
	{`SELECT * FROM "photos" WHERE "photos"."user_id" = $1 AND "photos"."deleted_at" IS NULL`, query("photos")},
	{"SELECT count(*) FROM `users`", query("users")},
	{`SELECT "photos"."id","photos"."title","User"."id" AS "User__id" FROM "photos" LEFT JOIN "users" "User" ON "photos"."user_id" = "User"."id"`, query("photos", "users")},
	{`SELECT * FROM "users" WHERE "users"."id" = $1 AND "users"."deleted_at" IS NULL ORDER BY "users"."id" LIMIT $2`, query("users")},
	{`SELECT * FROM "users" ORDER BY "users"."id","users"."name" LIMIT 1`, query("users")},
	{`SELECT * FROM "photo_tags" WHERE "photo_tags"."photo_id" IN ($1,$2,$3)`, query("photo_tags")},
	{`SELECT * FROM "users" WHERE "id" IN (SELECT "user_id" FROM "photos" WHERE "title" = $1)`, query("users", "photos")},
	{`INSERT INTO "photos" ("a","b") VALUES ($1,$2) ON CONFLICT ("id") DO UPDATE SET "a"="excluded"."a" RETURNING "id"`, writes(w("photos"))},
	{`INSERT INTO "photo_tags" ("photo_id","tag_id") VALUES ($1,$2),($3,$4) ON CONFLICT DO NOTHING`, writes(w("photo_tags"))},
	{"INSERT INTO `photos` (`title`,`user_id`) VALUES (?,?) ON DUPLICATE KEY UPDATE `title`=VALUES(`title`)", writes(w("photos"))},
	{"INSERT INTO `photos` (`title`) VALUES (?) RETURNING `id`", writes(w("photos"))},
	{`UPDATE "photos" SET "deleted_at"=$1 WHERE "photos"."id" = $2 AND "photos"."deleted_at" IS NULL`, writes(w("photos"))},
	{`UPDATE "users" SET "name"=$1,"updated_at"=$2 WHERE "id" = $3 RETURNING *`, writes(w("users"))},
	{`DELETE FROM "photo_tags" WHERE "photo_tags"."photo_id" = $1 AND "photo_tags"."tag_id" IN ($2,$3)`, writes(w("photo_tags"))},
	{"DELETE FROM `photos` WHERE `photos`.`id` = ?", writes(w("photos"))},

	// FROM lists.
	{`SELECT a FROM t`, query("t")},
	{`select a from T as x`, query("t")},
	{`SELECT x.a FROM t x`, query("t")},
	{`SELECT * FROM a, b, c WHERE a.id = b.id`, query("a", "b", "c")},
	{`SELECT * FROM public.photos, "My Schema"."Photos"`, query("photos")},
	{`SELECT * FROM [dbo].[Photo Tags] AS [pt]`, query("photo tags")},
	{`SELECT * FROM a JOIN b ON a.id = b.id INNER JOIN c USING (id) LEFT OUTER JOIN d ON true RIGHT JOIN e ON true FULL JOIN f ON true CROSS JOIN g NATURAL JOIN h`, query("a", "b", "c", "d", "e", "f", "g", "h")},
	{`SELECT * FROM a JOIN b ON a.x = b.x, c`, query("a", "b", "c")},
	{`SELECT * FROM a JOIN b ON f(a.x, b.y) AND a.z IN (1, 2), c`, volatile(query("a", "b", "c"))},
	{`SELECT * FROM (a JOIN b ON a.id = b.id) LEFT JOIN c ON true`, query("a", "b", "c")},
	{`SELECT * FROM ONLY parent`, query("parent")},
	{`SELECT * FROM parent * WHERE x = 1`, query("parent")},
	{`SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.a = a.id) s`, query("a", "b")},
	{`SELECT * FROM a JOIN LATERAL (SELECT * FROM b) s ON true`, query("a", "b")},
	{`SELECT * FROM (SELECT * FROM a UNION ALL SELECT * FROM b) AS s`, query("a", "b")},
	{`SELECT * FROM ((SELECT 1 FROM a) UNION (SELECT 2 FROM b)) s, c`, query("a", "b", "c")},
	{`SELECT * FROM generate_series(1, 10) AS g(n), t`, query("t")},
	{`SELECT * FROM unnest($1::int[]) WITH ORDINALITY AS u(x, i) JOIN t ON t.id = u.x`, query("t")},
	{`SELECT * FROM ROWS FROM (f(1), g(2)) AS r, t`, volatile(query("t"))},
	{`SELECT * FROM (VALUES (1), (2)) AS v(x), t`, query("t")},
	{`SELECT * FROM t TABLESAMPLE SYSTEM (10) REPEATABLE (1), u`, volatile(query("t", "u"))},
	{"SELECT * FROM t USE INDEX FOR ORDER BY (i1, i2), u FORCE INDEX (i3)", query("t", "u")},
	{`SELECT * FROM t WITH (NOLOCK) JOIN u ON t.id = u.id`, query("t", "u")},
	{`SELECT * FROM t (NOLOCK), u AS x (nolock)`, query("t", "u")},
	{`SELECT * FROM t WITH (ROWLOCK, UPDLOCK) WHERE id = 1`, locking("t")},
	{`SELECT * FROM t WITH (INDEX(ix), HOLDLOCK)`, locking("t")},
	{`SELECT * FROM t INDEXED BY i, u NOT INDEXED`, query("t", "u")},
	{`SELECT * FROM t1 STRAIGHT_JOIN t2 ON t1.a = t2.a`, query("t1", "t2")},
	{`SELECT * FROM t CROSS APPLY f(t.x) AS a OUTER APPLY (SELECT * FROM u) AS b`, volatile(query("t", "u"))},
	{`SELECT * FROM a lock, b`, query("a", "b")},
	{`SELECT * FROM a offset, b`, query("a", "b")},
	{`SELECT * FROM a JOIN b ON offset = 1 AND returning = 2, c`, query("a", "b", "c")},
	{`SELECT * FROM a JOIN b ON conflict = 1 AND CASE WHEN matched THEN true END, c`, query("a", "b", "c")},
	{`SELECT * FROM t OFFSET 10 ROWS FETCH FIRST 5 ROWS ONLY`, query("t")},
	{`SELECT a, b FROM t GROUP BY a, b HAVING count(*) > 1 ORDER BY a, b LIMIT 5, 10`, query("t")},
	{`SELECT * FROM t WINDOW w AS (PARTITION BY a ORDER BY b)`, query("t")},
	{`SELECT FROM t`, query("t")},
	{`SELECT DISTINCT a FROM t`, query("t")},

	// Subqueries, set operations, CTEs, TABLE, VALUES.
	{`SELECT (SELECT max(x) FROM a), EXISTS (SELECT 1 FROM b) FROM c WHERE d IN (SELECT d FROM e) AND f = ANY (SELECT f FROM g)`, query("a", "b", "c", "e", "g")},
	{`SELECT a FROM t UNION SELECT b FROM u INTERSECT SELECT c FROM v EXCEPT SELECT d FROM w`, query("t", "u", "v", "w")},
	{`SELECT * FROM x WHERE id IN ((SELECT 1) UNION SELECT id FROM t)`, query("x", "t")},
	{`SELECT ARRAY(SELECT id FROM t)`, query("t")},
	{`(SELECT a FROM t) UNION (SELECT b FROM u) ORDER BY 1`, query("t", "u")},
	{`WITH x AS (SELECT * FROM t), y (a) AS MATERIALIZED (SELECT a FROM u) SELECT * FROM x JOIN y USING (a)`, query("t", "u", "x", "y")},
	{`WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r`, query("r")},
	{`TABLE photos`, query("photos")},
	{`SELECT 1 UNION TABLE t`, query("t")},
	{`VALUES (1, 'a'), (2, 'b')`, query()},
	{`SELECT 1`, query()},
	{`SELECT 1; SELECT a FROM t;`, query("t")},
	{`SELECT now(), nextval('seq')`, volatile(query())},

	// Results that change without a write to the tables named: catalogues,
	// the clock, the session, functions not known to be deterministic.
	{`SELECT count(*) FROM sqlite_master WHERE type = ? AND name = ?`, volatile(query("sqlite_master"))},
	{`SELECT count(*) FROM information_schema.tables WHERE table_schema = CURRENT_SCHEMA() AND table_name = $1`, volatile(query("tables"))},
	{`SELECT count(*) FROM "information_schema"."columns" WHERE table_name = $1`, volatile(query("columns"))},
	{`SELECT * FROM pg_indexes WHERE tablename = $1`, volatile(query("pg_indexes"))},
	{`SELECT c.relname FROM pg_catalog.pg_class c JOIN t ON true`, volatile(query("pg_class", "t"))},
	{`SELECT * FROM mysql.user`, volatile(query("user"))},
	{`SELECT * FROM pragma_table_info('users')`, volatile(query())},
	{`SELECT * FROM t WHERE created_at > CURRENT_TIMESTAMP`, volatile(query("t"))},
	{`SELECT * FROM t WHERE ts > now() - interval '1 day'`, volatile(query("t"))},
	{`SELECT date('now'), random() FROM t`, volatile(query("t"))},
	{`SELECT * FROM t WHERE d > 'today'::date`, volatile(query("t"))},
	{`SELECT pg_catalog.now() FROM t`, volatile(query("t"))},
	{`SELECT current_setting('search_path') FROM t`, volatile(query("t"))},
	{`SELECT user(), current_user() FROM t WHERE ts > CURRENT_TIMESTAMP(3)`, volatile(query("t"))},
	{`SELECT "current_timestamp", t.localtime FROM t`, query("t")},
	{"SELECT * FROM t WHERE d < UTC_TIMESTAMP AND e = utc_date", volatile(query("t"))},
	{"SELECT `utc_time`, t.utc_date FROM t", query("t")},
	{"SELECT * FROM t WHERE id = @x", volatile(query("t"))},
	{`SELECT NEXT VALUE FOR s`, volatile(query())},
	{`SELECT PREVIOUS VALUE FOR s`, volatile(query())},
	{`SELECT s.nextval`, volatile(query())},
	{`SELECT a.next, b.value FROM t`, query("t")},
	{`SELECT "nextval"('s')`, volatile(query())},
	{"SELECT `f`(a) FROM t", volatile(query("t"))},
	{`SELECT "lower"(name) FROM t`, query("t")},
	{`SELECT datetime()`, volatile(query())},
	{`SELECT unixepoch() - created FROM t`, volatile(query("t"))},
	{`SELECT strftime('%s')`, volatile(query())},
	{`SELECT datetime("now")`, volatile(query())},
	{`SELECT datetime(created_at), strftime('%Y', created_at), date(created_at, '+1 day'), julianday(x) FROM t`, query("t")},
	{"SELECT @@sql_mode, @@session.time_zone", volatile(query())},
	{`SELECT count(*), max(id), coalesce(sum(x), 0), lower(name) FROM t`, query("t")},
	{`SELECT CAST(x AS varchar(10)), date(created_at), json_extract(j, '$.a') FROM t`, query("t")},
	{`WITH a AS (SELECT 1), c (x) AS (SELECT 2) SELECT * FROM a, c`, query("a", "c")},
	{`SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t WHERE id IN (SELECT id FROM u)`, query("t", "u")},

	// FROM that names no table.
	{`SELECT EXTRACT(YEAR FROM created_at) FROM t`, query("t")},
	{`SELECT substring(name FROM 2 FOR 3), TRIM(BOTH 'x' FROM name), overlay(a PLACING b FROM 2) FROM t`, query("t")},
	{`SELECT * FROM t WHERE a IS DISTINCT FROM b AND c IS NOT DISTINCT FROM d`, query("t")},
	{`SELECT substring((SELECT s FROM u) FROM 2) FROM t`, query("u", "t")},
	{`SELECT count(*) FILTER (WHERE a > 1), percentile_cont(0.5) WITHIN GROUP (ORDER BY b) FROM t`, query("t")},

	// Locking and INTO.
	{`SELECT * FROM "photos" WHERE "id" = $1 FOR UPDATE`, locking("photos")},
	{`SELECT * FROM t FOR UPDATE OF t, u SKIP LOCKED`, locking("t")},
	{`SELECT * FROM t FOR NO KEY UPDATE NOWAIT`, locking("t")},
	{`SELECT * FROM t FOR SHARE`, locking("t")},
	{`SELECT * FROM t FOR KEY SHARE`, locking("t")},
	{"SELECT * FROM `t` WHERE id = ? LOCK IN SHARE MODE", locking("t")},
	{`SELECT * FROM a WHERE id IN (SELECT id FROM b FOR UPDATE)`, locking("a", "b")},
	{`SELECT * INTO TEMP TABLE archive FROM photos`, writes(w("archive"), "photos")},
	{`SELECT * INTO temp FROM photos`, writes(w("temp"), "photos")},
	{`SELECT a INTO @x FROM t`, harmless("t")},
	{`SELECT * FROM t INTO OUTFILE '/tmp/t.csv'`, harmless("t")},

	// Writes.
	{`INSERT INTO t SELECT * FROM u WHERE NOT EXISTS (SELECT 1 FROM v)`, writes(w("t"), "u", "v")},
	{`INSERT INTO t (a) VALUES ((SELECT max(a) FROM u))`, writes(w("t"), "u")},
	{`INSERT INTO s.t AS x (a) VALUES (1) ON CONFLICT (a) WHERE a > 0 DO UPDATE SET a = x.a + 1`, writes(w("t"))},
	{`INSERT OR REPLACE INTO t (a) VALUES (1)`, writes(w("t"))},
	{`INSERT IGNORE t VALUES (1)`, writes(w("t"))},
	{`INSERT INTO t DEFAULT VALUES`, writes(w("t"))},
	{`INSERT INTO t TABLE u`, writes(w("t"), "u")},
	{`REPLACE INTO t (a) VALUES (1)`, writes(w("t"))},
	{`UPSERT INTO t (a) VALUES (1)`, writes(w("t"))},
	{`INSERT INTO t SELECT * FROM u ON DUPLICATE KEY UPDATE a = 1, b = 2`, writes(w("t"), "u")},
	{`UPDATE ONLY t * AS x SET a = 1`, writes(w("t"))},
	{`UPDATE OR IGNORE t SET a = 1`, writes(w("t"))},
	{`UPDATE t SET a = u.a FROM u, v WHERE t.id = u.id`, writes(w("t"), "u", "v")},
	{`UPDATE t SET a = (SELECT max(a) FROM u), b = EXTRACT(YEAR FROM now())`, writes(w("t"), "u")},
	{`UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1, t2.b = 2`, writes(w("t1", "t2"))},
	{`UPDATE t1, t2 SET t1.a = t2.a WHERE t1.id = t2.id`, writes(w("t1", "t2"))},
	{`UPDATE x SET a = 1 FROM photos x JOIN users u ON u.id = x.user_id`, writes(w("x", "photos"), "photos", "users")},
	{`DELETE FROM ONLY t WHERE a = 1`, writes(w("t"))},
	{`DELETE FROM t USING u, v WHERE t.id = u.id`, writes(w("t"), "u", "v")},
	{`DELETE FROM t WHERE id IN (SELECT id FROM u) RETURNING *`, writes(w("t"), "u")},
	{`DELETE t1, t2 FROM t1 JOIN t2 ON t1.id = t2.id JOIN t3 ON true`, writes(w("t1", "t2"), "t1", "t2", "t3")},
	{`DELETE a FROM photos AS a JOIN users b ON a.user_id = b.id`, writes(w("a", "photos"), "photos", "users")},
	{`DELETE FROM a USING photos AS a`, writes(w("a", "photos"), "photos")},
	{`DELETE t1.* FROM t1`, writes(w("t1"), "t1")},
	{`DELETE photos WHERE id = 1`, writes(w("photos"))},
	{`DELETE FROM t ORDER BY id LIMIT 10`, writes(w("t"))},
	{`MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a, b = s.b WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)`, writes(w("t"), "s")},
	{`MERGE INTO t AS x USING (SELECT * FROM s) AS y ON x.id = y.id WHEN MATCHED THEN DELETE`, writes(w("t"), "s")},
	{`TRUNCATE photos`, writes(w("photos"))},
	{`TRUNCATE TABLE ONLY a, b * RESTART IDENTITY`, writes(w("a", "b"))},
	{`WITH d AS (DELETE FROM t WHERE a = 1 RETURNING *) SELECT * FROM d`, writes(w("t"), "d")},
	{`WITH u AS (UPDATE t SET a = 1 RETURNING id), i AS (INSERT INTO log SELECT id FROM u) SELECT 1`, writes(w("t", "log"), "u")},
	{`WITH x AS (SELECT id FROM a) DELETE FROM b WHERE id IN (SELECT id FROM x)`, writes(w("b"), "a", "x")},
	{`WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x`, writes(w("t"), "x")},
	{`INSERT INTO t WITH x AS (SELECT * FROM u) SELECT * FROM x`, writes(w("t"), "u", "x")},

	// DDL.
	{`CREATE TABLE "photos" ("id" bigserial, "user_id" bigint REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE, PRIMARY KEY ("id"))`, ddl(writes(w("photos")))},
	{"CREATE TABLE IF NOT EXISTS `t` (`a` int, `updated_at` timestamp ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB", ddl(writes(w("t")))},
	{`CREATE TEMP TABLE t ON COMMIT DROP AS SELECT * FROM u`, ddl(writes(w("t"), "u"))},
	{`CREATE UNLOGGED TABLE t AS TABLE u WITH NO DATA`, ddl(writes(w("t"), "u"))},
	{`CREATE OR REPLACE VIEW v AS SELECT * FROM t`, ddl(writes(w("v"), "t"))},
	{"CREATE ALGORITHM=MERGE DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS SELECT 1", ddl(writes(w("v")))},
	{`CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT * FROM t`, ddl(writes(w("mv"), "t"))},
	{`CREATE VIRTUAL TABLE docs USING fts5(title, body)`, ddl(writes(w("docs")))},
	{`CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx ON ONLY t USING btree (a) WHERE a > 0`, harmless()},
	{`CREATE INDEX "idx_photos_user_id" ON "photos" ("user_id")`, harmless()},
	{`DROP INDEX IF EXISTS idx`, harmless()},
	{`DROP TABLE IF EXISTS "photos", "users" CASCADE`, ddl(writes(w("photos", "users")))},
	{`DROP TEMPORARY TABLE t`, ddl(writes(w("t")))},
	{`DROP VIEW v`, ddl(writes(w("v")))},
	{`DROP MATERIALIZED VIEW mv`, ddl(writes(w("mv")))},
	{`ALTER TABLE "photos" ADD "size" bigint`, ddl(writes(w("photos")))},
	{`ALTER TABLE IF EXISTS ONLY t ALTER COLUMN c TYPE text USING c::text, DROP COLUMN d`, ddl(writes(w("t")))},
	{`ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id) ON DELETE SET NULL`, ddl(writes(w("t")))},
	{`ALTER TABLE t RENAME TO u`, ddl(writes(w("t", "u")))},
	{`ALTER TABLE t RENAME COLUMN a TO b`, ddl(writes(w("t")))},
	{`ALTER TABLE child INHERIT parent`, ddl(writes(w("child", "parent")))},
	{`ALTER TABLE parent ATTACH PARTITION p2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`, ddl(writes(w("parent", "p2024")))},
	{`ALTER TABLE t EXCHANGE PARTITION p0 WITH TABLE t2`, ddl(writes(w("t", "t2")))},
	{`ALTER VIEW v RENAME TO w`, ddl(writes(w("v")))},
	{`RENAME TABLE a TO b, c TO d`, ddl(writes(w("a", "b", "c", "d")))},
	{`REFRESH MATERIALIZED VIEW CONCURRENTLY mv`, writes(w("mv"))},

	// Harmless statements.
	{`BEGIN`, harmless()},
	{`BEGIN ISOLATION LEVEL SERIALIZABLE; START TRANSACTION READ ONLY`, harmless()},
	{`SAVEPOINT sp1; RELEASE SAVEPOINT sp1; RELEASE sp2; ROLLBACK TO SAVEPOINT sp1; ROLLBACK TO sp1`, harmless()},
	{`COMMIT; END; ROLLBACK; ABORT`, harmless()},
	{`SET search_path TO public; SET LOCAL statement_timeout = 5; RESET ALL`, harmless()},
	{`SET @x = (SELECT count(*) FROM t), @y = REPLACE('a', 'b', 'c')`, harmless()},
	{`SHOW CREATE TABLE t`, harmless()},
	{`EXPLAIN SELECT * FROM t`, harmless()},
	{`EXPLAIN DELETE FROM t`, harmless()},
	{`EXPLAIN (FORMAT JSON, COSTS false) UPDATE t SET a = 1`, harmless()},
	{`EXPLAIN QUERY PLAN SELECT * FROM t`, harmless()},
	{`DESCRIBE t`, harmless()},
	{`PRAGMA foreign_keys = ON; PRAGMA table_info(photos); PRAGMA journal_mode = DELETE`, harmless()},
	{`LISTEN ch; UNLISTEN *; NOTIFY ch, 'DELETE FROM t'`, harmless()},
	{`PREPARE p AS DELETE FROM t WHERE id = $1; DEALLOCATE p`, harmless()},
	{`ANALYZE t; VACUUM (FULL, ANALYZE) t; VACUUM`, harmless()},
	{`LOCK TABLE t IN SHARE UPDATE EXCLUSIVE MODE`, harmless()},
	{``, harmless()},
	{` ;; -- nothing`, harmless()},

	// EXPLAIN ANALYZE runs its statement.
	{`EXPLAIN ANALYZE DELETE FROM t`, writes(w("t"))},
	{`EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1`, writes(w("t"))},
	{`EXPLAIN ANALYZE SELECT * FROM t`, harmless("t")},
	{`EXPLAIN ANALYSE VERBOSE WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x`, writes(w("t"), "x")},
	// So does MariaDB's ANALYZE statement.
	{`ANALYZE UPDATE t SET a = 1 WHERE id = 2`, writes(w("t"))},
	{`ANALYZE FORMAT=JSON DELETE FROM t`, writes(w("t"))},
	{`ANALYZE SELECT * FROM t`, harmless("t")},
	{`ANALYZE TABLE t PERSISTENT FOR ALL; ANALYZE TABLE t UPDATE HISTOGRAM ON c; ANALYZE VERBOSE t`, harmless()},

	// MariaDB's system-versioned tables.
	{`DELETE HISTORY FROM t BEFORE SYSTEM_TIME '2026-01-01'`, writes(w("t"))},
	{`DELETE FROM history WHERE id = 1`, writes(w("history"))},
	// Read as DELETE HISTORY FROM history JOIN t: t is invalidated too.
	{`DELETE history FROM history JOIN t ON t.id = history.id`, writes(w("history", "t"))},

	// Multiple statements.
	{`SELECT * FROM a; DELETE FROM b`, writes(w("b"), "a")},
	{`BEGIN; UPDATE t SET a = 1; COMMIT`, writes(w("t"))},
	{`SELECT 1; BEGIN`, harmless()},
	{`INSERT INTO a VALUES (1); INSERT INTO "A" VALUES (2)`, writes(w("a"))},

	// Literals and comments that look like SQL.
	{`SELECT 'DELETE FROM x' FROM t`, query("t")},
	{`SELECT * FROM t WHERE a = 'it''s; DELETE FROM x' -- DELETE FROM y`, query("t")},
	{`SELECT /* DELETE FROM x; */ a FROM t`, query("t")},
	{"SELECT a -- ; DROP TABLE x\nFROM t", query("t")},
	{`SELECT E'\'; DELETE FROM x; \'' FROM t`, query("t")},
	{`SELECT E'\\'; DELETE FROM x; SELECT '\'`, unknown(w("x"))},
	{`SELECT $$; DELETE FROM x;$$, $fn$ it's $fn$ FROM t`, query("t")},
	{`SELECT "DELETE FROM x", "a""b" FROM t`, query("t")},
	{"SELECT `DELETE FROM x` FROM t", query("t")},
	{`SELECT [DELETE FROM x] FROM t`, query("t")},
	{`SELECT * FROM "Ünïcode", ß`, query("ünïcode", "ß")},
	{`SELECT * FROM t WHERE a = :name AND b = @b AND c = ? AND d = $1 AND e = @@session.x`, volatile(query("t"))}, // MySQL variables: SET changes them
	{`SELECT a::text, b->>'c', d #>> '{e}', f @> g, h <@ i, 1e-3, .5, 0x1F FROM t`, query("t")},
	{`SELECT tags[1], tags[1:2], data['key'], arr[(SELECT 1 FROM u)] FROM t`, query("u", "t")},
	{`SELECT * FROM "photos" WHERE "update" = 1 AND t.delete = 2 AND x AS insert`, query("photos")},

	// Unknown.
	{`CALL refresh_all()`, unknown(nil)},
	{`DO $$ BEGIN DELETE FROM t; END $$`, unknown(nil)},
	{`COPY t FROM STDIN`, unknown(nil)},
	{`EXECUTE p(1)`, unknown(nil)},
	{`EXPLAIN ANALYZE EXECUTE p(1)`, unknown(nil)},
	{`GRANT SELECT ON t TO bob`, unknown(nil)},
	{`CREATE FUNCTION f() RETURNS void AS $$ DELETE FROM t $$ LANGUAGE sql`, unknown(nil)},
	{`CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END`, unknown(nil)},
	{`UPDATE (SELECT * FROM t) SET a = 1`, unknown(nil, "t")},
	{`UPDATE TOP (10) t SET a = 1`, unknown(nil)},
	{`INSERT INTO $1 VALUES (1)`, unknown(nil)},
	{`INSERT INTO (SELECT * FROM t) VALUES (1)`, unknown(nil)},
	{`DELETE FROM "" WHERE a = 1`, unknown(nil)},
	{`TRUNCATE a CASCADE`, unknown(w("a"))},
	{`COMMIT PREPARED 'tx1'`, unknown(nil)},
	{`SELECT * FROM ?`, unknown(nil)},
	{`SELECT * FROM t DELETE FROM u`, unknown(nil, "t", "u")},
	{`SELECT 1 TRUNCATE TABLE t`, unknown(nil, "t")},
	{`BEGIN DELETE FROM t END`, unknown(nil)},
	{`SELECT * FROM t WHERE (a = 1`, unknown(nil, "t")},
	{`SELECT * FROM t WHERE a = 1)`, unknown(nil, "t")},
	{`SELECT 'unterminated FROM t`, unknown(nil)},
	{`SELECT 1 /* unterminated`, unknown(nil)},
	{`SELECT 1 /* nested /* */ DELETE FROM t */`, unknown(nil)},
	{`SELECT 1 /*!50000 ; DELETE FROM t */`, unknown(nil)},
	{`SELECT 'a\'; DELETE FROM t; -- '`, unknown(nil)},
	{"SELECT 1 # it's\n; DELETE FROM t; -- '", unknown(nil)},
	{"SELECT 1 --x; DELETE FROM t", writes(w("t"))},
	{"SELECT 1 # ; DELETE FROM t", writes(w("t"))},
	{"SELECT data #>> '{a}' FROM t", query("t")},
	{`SELECT 1abc FROM t`, unknown(nil)},
	{`SELECT [a'b] FROM t; DELETE FROM u; SELECT 'x'`, unknown(nil)},
	{`USE other_db`, unknown(nil)},
	{"INSERT OR\n;\nDELETE FROM t", unknown(w("t"))},
	{`DROP TABLE t DELETE FROM u`, ddl(unknown(w("t")))},
	{`CREATE INDEX i ON t (a) WITH (ONLINE = ON) DELETE FROM u`, unknown(nil)},
	{`SET IDENTITY_INSERT t ON INSERT INTO t VALUES (1)`, unknown(nil)},
	{`UPDATE a JOIN b ON a.x IS DISTINCT FROM b.x JOIN c ON true SET a.y = 1`, writes(w("a", "b", "c"))},
	{`SELECT * FROM U&"ph\006ftos"`, unknown(nil)},
	{`DELETE`, unknown(nil)},
	{`DELETE FROM`, unknown(nil)},
	{`SELECT * FROM a,`, unknown(nil, "a")},
	{`SELECT * FROM a JOIN (SELECT 1 FROM)`, unknown(nil, "a")},
	{`UPDATE t`, unknown(w("t"))},
	{`WITH x AS (SELECT 1 FROM a)`, unknown(nil, "a")},
	{`UPDATE t1 JOIN (SELECT * FROM t2) x ON true SET t1.a = 1`, unknown(w("t1"), "t2")},
}

// withoutTokens returns a without its tokens, for comparing what Analyze
// found.
func withoutTokens(a Analysis) Analysis {
	a.SQL, a.Tokens = "", nil
	return a
}

func TestAnalyze(t *testing.T) {
	for _, c := range catalogue {
		assert.Equal(t, c.want, withoutTokens(Analyze(c.sql)), "Analyze(%q)", c.sql)
	}
}

func TestAnalyzeTokens(t *testing.T) {
	a := Analyze(`SELECT a FROM "t" WHERE b = ?`)
	want := []Token{
		{Kind: Word, Keyword: KwSelect, Text: "SELECT", Pos: 0},
		{Kind: Word, Text: "a", Pos: 7},
		{Kind: Word, Keyword: KwFrom, Text: "FROM", Pos: 9},
		{Kind: QuotedIdent, Text: `"t"`, Pos: 14},
		{Kind: Word, Keyword: KwWhere, Text: "WHERE", Pos: 18},
		{Kind: Word, Text: "b", Pos: 24},
		{Kind: Op, Text: "=", Pos: 26},
		{Kind: Param, Text: "?", Pos: 28},
		{Kind: EOF, Pos: 29},
	}
	assert.Equal(t, want, tokens(&a))

	a = Analyze(`SELECT 'x`)
	assert.True(t, a.Unknown)
	assert.Equal(t, []Token{{Kind: Word, Keyword: KwSelect, Text: "SELECT"}, {Kind: EOF, Pos: 7}}, tokens(&a),
		"an EOF in place of the Invalid token")
}

// tokens returns every token of a.
func tokens(a *Analysis) []Token {
	out := make([]Token, len(a.Tokens))
	for i := range out {
		out[i] = a.Token(i)
	}
	return out
}
