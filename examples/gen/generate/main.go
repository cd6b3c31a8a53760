// Command generate writes package query, gorm.io/gen's typed queries on the
// models of package model. Run it with go generate in examples/gen.
package main

import (
	"gorm.io/gen"

	"github.com/gormcache/gormcache/examples/gen/model"
)

func main() {
	g := gen.NewGenerator(gen.Config{OutPath: "query", Mode: gen.WithDefaultQuery | gen.WithQueryInterface})
	g.ApplyBasic(model.Customer{}, model.Label{})
	g.ApplyInterface(func(model.OrderQuerier) {}, model.Order{})
	g.Execute()
}
