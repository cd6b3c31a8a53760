package gormcache_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gormcache/gormcache"
)

func ExampleWithRequestScope() {
	db, cleanup := openExample()
	defer cleanup()
	db.Create(&ShopOrder{ShopID: 1, Amount: 10})

	ctx := gormcache.WithRequestScope(context.Background())
	request := db.WithContext(ctx) // the queries of one request
	read := func() {
		var orders []ShopOrder
		request.Clauses(gormcache.Cache()).Where("shop_id = ?", 1).Find(&orders)
	}
	fmt.Println("first:", servedBy(db, read))
	fmt.Println("again:", servedBy(db, read))

	// The request's own write drops what it changes from the scope before
	// it returns.
	request.Create(&ShopOrder{ShopID: 1, Amount: 20})
	fmt.Println("after its write:", servedBy(db, read))
	fmt.Println("again:", servedBy(db, read))
	// Output:
	// first: the database
	// again: the request scope
	// after its write: the database
	// again: the request scope
}

func ExampleRequestScopeHandler() {
	db, cleanup := openExample()
	defer cleanup()
	db.Create(&ShopOrder{ShopID: 1, Amount: 10})

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		request := db.WithContext(r.Context()) // the request's scope
		// The header, the body and the footer each read the orders.
		for range 3 {
			var orders []ShopOrder
			request.Clauses(gormcache.Cache()).Where("shop_id = ?", 1).Find(&orders)
		}
	})
	srv := httptest.NewServer(gormcache.RequestScopeHandler(page))
	defer srv.Close()

	p := db.Config.Plugins["gormcache"].(*gormcache.Plugin)
	for range 2 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		s := p.Stats()
		fmt.Printf("misses %d, hits %d, of which the request scope's %d\n", s.Misses, s.Hits, s.ScopeHits)
	}
	// Output:
	// misses 1, hits 2, of which the request scope's 2
	// misses 1, hits 5, of which the request scope's 4
}
