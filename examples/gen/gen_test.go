package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/examples/gen/model"
	"github.com/gormcache/gormcache/examples/gen/query"
	"github.com/gormcache/gormcache/internal/freshness"
	"github.com/gormcache/gormcache/internal/testdb"
)

func TestRun(t *testing.T) {
	require.NoError(t, run(t.Context()))
}

// newSeeded opens a database of d's engine with the plugin and seeds it
// through gen: ada (orders 1 and 2, order 1 labelled "gift") and grace
// (order 3).
func newSeeded(t *testing.T, d testdb.Dialector) (*gorm.DB, *gormcache.Plugin) {
	db, p := freshness.Open(t, d.Open(t))
	require.NoError(t, db.AutoMigrate(&model.Customer{}, &model.Order{}, &model.Label{}))
	q := query.Use(db.Clauses(gormcache.NoCache()))
	require.NoError(t, q.Customer.WithContext(t.Context()).Create(
		&model.Customer{Name: "ada", Tier: 1, Orders: []model.Order{
			{Status: "open", Total: 30, Labels: []model.Label{{Name: "gift"}}},
			{Status: "paid", Total: 12},
		}},
		&model.Customer{Name: "grace", Tier: 2, Orders: []model.Order{{Status: "paid", Total: 40}}},
	))
	return db, p
}

// orderRows returns what the reads compare of the orders gen returns: the
// rows, without the pointers.
func orderRows(t testing.TB) func(orders []*model.Order, err error) []model.Order {
	return func(orders []*model.Order, err error) []model.Order {
		require.NoError(t, err)
		rows := make([]model.Order, len(orders))
		for i, o := range orders {
			rows[i] = *o
		}
		return rows
	}
}

var reads = freshness.Reads{
	"ada's open orders": func(t testing.TB, db *gorm.DB) any {
		o := query.Use(db).Order
		return orderRows(t)(o.WithContext(t.Context()).Where(o.CustomerID.Eq(1), o.Status.Eq("open")).Order(o.ID).Find())
	},
	"orders over 20": func(t testing.TB, db *gorm.DB) any {
		o := query.Use(db).Order
		return orderRows(t)(o.WithContext(t.Context()).Where(o.Total.Gt(20)).Order(o.ID).Find())
	},
	"open orders, counted": func(t testing.TB, db *gorm.DB) any {
		o := query.Use(db).Order
		n, err := o.WithContext(t.Context()).Where(o.Status.Eq("open")).Count()
		require.NoError(t, err)
		return n
	},
	"ada's paid orders, by the SQL template": func(t testing.TB, db *gorm.DB) any {
		o := query.Use(db).Order
		rows, err := o.WithContext(t.Context()).ByCustomerStatus(1, "paid")
		require.NoError(t, err)
		return rows
	},
	"customer 1 with her orders": func(t testing.TB, db *gorm.DB) any {
		c := query.Use(db).Customer
		got, err := c.WithContext(t.Context()).Preload(c.Orders).Where(c.ID.Eq(1)).First()
		require.NoError(t, err)
		return *got
	},
	"customers with a paid order": func(t testing.TB, db *gorm.DB) any {
		q := query.Use(db)
		c, o := q.Customer, q.Order
		var names []string
		require.NoError(t, c.WithContext(t.Context()).Distinct(c.Name).Join(o, o.CustomerID.EqCol(c.ID)).
			Where(o.Status.Eq("paid")).Order(c.Name).Pluck(c.Name, &names))
		return names
	},
	"labels of order 1": func(t testing.TB, db *gorm.DB) any {
		o := query.Use(db).Order
		labels, err := o.Labels.Model(&model.Order{ID: 1}).Find()
		require.NoError(t, err)
		names := []string{}
		for _, l := range labels {
			names = append(names, l.Name)
		}
		return names
	},
}

var writes = freshness.Writes{
	"update a column": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		_, err := o.WithContext(t.Context()).Where(o.ID.Eq(2)).Update(o.Status, "open")
		require.NoError(t, err)
	},
	"add in place": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		_, err := o.WithContext(t.Context()).Where(o.CustomerID.Eq(1)).UpdateSimple(o.Total.Add(10))
		require.NoError(t, err)
	},
	"updates from a map": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		_, err := o.WithContext(t.Context()).Where(o.ID.Eq(1)).Updates(map[string]any{"status": "paid", "total": 5})
		require.NoError(t, err)
	},
	"create in batches": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		require.NoError(t, o.WithContext(t.Context()).CreateInBatches([]*model.Order{
			{CustomerID: 1, Status: "open", Total: 50}, {CustomerID: 2, Status: "paid", Total: 1},
		}, 1))
	},
	"save a loaded row": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		got, err := o.WithContext(t.Context()).Where(o.ID.Eq(3)).First()
		require.NoError(t, err)
		got.CustomerID, got.Status = 1, "open"
		require.NoError(t, o.WithContext(t.Context()).Save(got))
	},
	"upsert": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		require.NoError(t, o.WithContext(t.Context()).Clauses(clause.OnConflict{UpdateAll: true}).
			Create(&model.Order{ID: 2, CustomerID: 1, Status: "open", Total: 99}))
	},
	"delete by condition": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		_, err := o.WithContext(t.Context()).Where(o.Status.Eq("paid")).Delete()
		require.NoError(t, err)
	},
	"append a label": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		require.NoError(t, o.Labels.Model(&model.Order{ID: 1}).Append(&model.Label{Name: "rush"}))
	},
	"clear the labels": func(t testing.TB, db *gorm.DB) {
		o := query.Use(db).Order
		require.NoError(t, o.Labels.Model(&model.Order{ID: 1}).Clear())
	},
	"first or create": func(t testing.TB, db *gorm.DB) {
		q := query.Use(db)
		c, o := q.Customer, q.Order
		bob, err := c.WithContext(t.Context()).Where(c.Name.Eq("bob")).Attrs(c.Tier.Value(3)).FirstOrCreate()
		require.NoError(t, err)
		require.NoError(t, o.WithContext(t.Context()).Create(&model.Order{CustomerID: bob.ID, Status: "paid", Total: 7}))
	},
	"a transaction": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, query.Use(db).Transaction(func(tx *query.Query) error {
			o := tx.Order
			if _, err := o.WithContext(t.Context()).Where(o.ID.Eq(1)).Update(o.Status, "paid"); err != nil {
				return err
			}
			_, err := o.WithContext(t.Context()).Where(o.ID.Eq(3)).Update(o.CustomerID, 1)
			return err
		}))
	},
}

// TestFreshness runs the freshness matrix with gen's typed queries and
// writes, on every engine.
func TestFreshness(t *testing.T) {
	testdb.Each(t, func(t *testing.T, d testdb.Dialector) {
		freshness.Check(t, func(t *testing.T) (*gorm.DB, *gormcache.Plugin) { return newSeeded(t, d) }, reads, writes)
	})
}
