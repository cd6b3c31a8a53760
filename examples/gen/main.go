// Command gen runs gorm.io/gen's typed queries through the cache: opt a
// query in with Clauses(gormcache.Cache()) on its DAO, as on a *gorm.DB.
//
//	go run ./examples/gen
package main

//go:generate go run ./generate

import (
	"context"
	"fmt"
	"log"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/examples/gen/model"
	"github.com/gormcache/gormcache/examples/gen/query"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return err
	}
	p := gormcache.New(gormcache.Config{})
	if err := db.Use(p); err != nil {
		return err
	}
	if err := db.AutoMigrate(&model.Customer{}, &model.Order{}, &model.Label{}); err != nil {
		return err
	}
	q := query.Use(db)
	ada := &model.Customer{Name: "ada", Orders: []model.Order{{Status: "open", Total: 30}, {Status: "paid", Total: 12}}}
	if err := q.Customer.WithContext(ctx).Create(ada); err != nil {
		return err
	}

	o := q.Order
	open := func() ([]*model.Order, error) {
		return o.WithContext(ctx).Clauses(gormcache.Cache()).
			Where(o.CustomerID.Eq(ada.ID), o.Status.Eq("open")).Order(o.ID).Find()
	}
	for range 2 {
		orders, err := open()
		if err != nil {
			return err
		}
		fmt.Printf("ada's open orders: %d\n", len(orders))
	}
	// A typed update invalidates what depends on the rows it changes.
	if _, err := o.WithContext(ctx).Where(o.CustomerID.Eq(ada.ID)).Update(o.Status, "open"); err != nil {
		return err
	}
	orders, err := open()
	if err != nil {
		return err
	}
	fmt.Printf("after the update: %d\n", len(orders))
	s := p.Stats()
	fmt.Printf("hits %d, misses %d\n", s.Hits, s.Misses)
	return nil
}
