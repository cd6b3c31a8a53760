package sqlscan_test

import (
	"fmt"

	"github.com/gormcache/gormcache/internal/sqlscan"
)

func ExampleAnalyze() {
	read := sqlscan.Analyze(`SELECT * FROM "photos" LEFT JOIN "users" "User" ON "photos"."user_id" = "User"."id" WHERE "User"."id" = $1`)
	fmt.Println(read.Reads, read.ReadOnly)

	write := sqlscan.Analyze(`UPDATE photos SET title = $1 FROM users u WHERE u.id = photos.user_id`)
	fmt.Println(write.Writes, write.Reads, write.Harmless)

	raw := sqlscan.Analyze(`CALL archive_photos()`)
	fmt.Println(raw.Unknown)
	// Output:
	// [photos users] true
	// [photos] [users] false
	// true
}
