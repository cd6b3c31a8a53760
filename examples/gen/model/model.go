// Package model holds the models of the gorm.io/gen example; gen
// generates package query from them (see ../generate).
package model

import "gorm.io/gen"

// Customer places orders.
type Customer struct {
	ID     uint
	Name   string `gorm:"size:64"`
	Tier   int
	Orders []Order
}

// Order belongs to a customer and carries labels.
type Order struct {
	ID         uint
	CustomerID uint
	Status     string `gorm:"size:16;index"`
	Total      int
	Labels     []Label `gorm:"many2many:order_labels"`
}

// Label tags orders.
type Label struct {
	ID   uint
	Name string `gorm:"size:32;uniqueIndex"`
}

// OrderQuerier is a query gen writes from the SQL template of its comment.
type OrderQuerier interface {
	// SELECT * FROM @@table WHERE customer_id = @customerID AND status = @status ORDER BY id
	ByCustomerStatus(customerID uint, status string) ([]gen.T, error)
}
