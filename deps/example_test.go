package deps_test

import (
	"fmt"

	"github.com/gormcache/gormcache/deps"
)

// A query by author and status that only the rows of one author, in one
// of two statuses, can change.
func ExampleTable() {
	posts := deps.Table{Name: "posts", Conjs: []deps.Conj{
		{{Column: "author_id", Value: "i3"}, {Column: "status", Value: "sdraft"}},
		{{Column: "author_id", Value: "i3"}, {Column: "status", Value: "spublished"}},
	}}
	for _, c := range posts.Conjs {
		fmt.Printf("%s %s: %s\n", posts.Name, c.Scheme(), c.Key())
		fmt.Println("  where", c)
	}
	fmt.Println(posts.Any())
	// Output:
	// posts author_id,status: author_id=i3&status=sdraft
	//   where author_id = 3 AND status = 'draft'
	// posts author_id,status: author_id=i3&status=spublished
	//   where author_id = 3 AND status = 'published'
	// false
}

func ExampleParseConj() {
	c, err := deps.ParseConj("deleted_at=n&title=sit%27s+here&user_id=i5")
	if err != nil {
		panic(err)
	}
	fmt.Println(c)
	fmt.Println(c.Scheme())

	_, err = deps.ParseConj("user_id=i5&deleted_at=n")
	fmt.Println(err)
	// Output:
	// deleted_at IS NULL AND title = 'it''s here' AND user_id = 5
	// deleted_at,title,user_id
	// gormcache: conjunction "user_id=i5&deleted_at=n": column "deleted_at" after "user_id"
}
