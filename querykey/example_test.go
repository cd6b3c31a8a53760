package querykey_test

import (
	"fmt"

	"github.com/gormcache/gormcache/querykey"
)

func ExampleKey() {
	const sql = "SELECT * FROM `users` WHERE `users`.`id` = ? AND `users`.`deleted_at` IS NULL"
	key, err := querykey.Key("app1:", "sqlite", sql, []any{42}, "[]main.User")
	if err != nil {
		fmt.Println(err) // do not cache this statement
		return
	}
	fmt.Println(key)

	id := int64(42) // another integer type, through a pointer: the same value
	same, _ := querykey.Key("app1:", "sqlite", sql, []any{&id}, "[]main.User")
	fmt.Println(same == key)

	other, _ := querykey.Key("app1:", "sqlite", sql, []any{"42"}, "[]main.User")
	fmt.Println(other == key)

	_, err = querykey.Key("app1:", "sqlite", sql, []any{make(chan int)}, "[]main.User")
	fmt.Println(err)
	// Output:
	// app1:Aw9gldB-fw2tsBslf46IZsVmngvyXABk
	// true
	// false
	// querykey: unsupported var type chan int in var 0
}
