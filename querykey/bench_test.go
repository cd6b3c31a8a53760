package querykey_test

import (
	"testing"
	"time"

	"github.com/gormcache/gormcache/querykey"
)

func BenchmarkKey(b *testing.B) {
	const sql = "SELECT * FROM `photos` WHERE `photos`.`user_id` = ? AND `photos`.`status` = ? AND `photos`.`deleted_at` IS NULL"
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	name := "summer"
	benchmarks := []struct {
		name string
		vars []any
	}{
		{"typical", []any{int64(42), "published"}},
		{"10vars", []any{int64(42), "published", 7, 2.5, true, at, []byte("blob"), &name, uint(3), nil}},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(sql)))
			for b.Loop() {
				if _, err := querykey.Key("app1:", "sqlite", sql, bm.vars, "[]main.Photo"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"/AppendKey", func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]byte, 0, 64)
			for b.Loop() {
				if _, err := querykey.AppendKey(dst, "app1:", "sqlite", sql, bm.vars, "[]main.Photo"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bm.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := querykey.Key("app1:", "sqlite", sql, bm.vars, "[]main.Photo"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
