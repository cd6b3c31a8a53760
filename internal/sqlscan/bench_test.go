package sqlscan

import "testing"

func BenchmarkAnalyze(b *testing.B) {
	for _, bm := range []struct{ name, sql string }{
		{"select", `SELECT * FROM "photos" WHERE "photos"."user_id" = $1 AND "photos"."deleted_at" IS NULL ORDER BY "photos"."id" LIMIT 10`},
		{"join", `SELECT "photos"."id","photos"."title","User"."id" AS "User__id" FROM "photos" LEFT JOIN "users" "User" ON "photos"."user_id" = "User"."id" WHERE "photos"."deleted_at" IS NULL`},
		{"insert", `INSERT INTO "photos" ("title","user_id","created_at") VALUES ($1,$2,$3) ON CONFLICT ("id") DO UPDATE SET "title"="excluded"."title" RETURNING "id"`},
		{"update", "UPDATE `photos` SET `deleted_at`=? WHERE `photos`.`id` IN (?,?,?) AND `photos`.`deleted_at` IS NULL"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.sql)))
			for b.Loop() {
				Analyze(bm.sql)
			}
		})
	}
}
