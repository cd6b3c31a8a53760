package depscan_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache/internal/depscan"
)

// condGen writes random valid conditions over the columns of a query,
// with the values they bind.
type condGen struct {
	r    *rand.Rand
	cols []string // qualified as the query needs
	vars []any
}

var genValues = []any{0, 1, 2, 3, 7, 30, -1, "ann", "bob", "7", "07", "", "ANN", "b", "x", true, false, nil, 1.5, int64(99)}

func (g *condGen) value() string {
	switch g.r.IntN(8) {
	case 0:
		return fmt.Sprint([]int{0, 1, 2, 7, 30, -1}[g.r.IntN(6)])
	case 1:
		return []string{"'ann'", "'bob'", "'7'", "''", "TRUE", "FALSE", "NULL"}[g.r.IntN(7)]
	}
	g.vars = append(g.vars, genValues[g.r.IntN(len(genValues))])
	return "?"
}

func (g *condGen) col() string { return g.cols[g.r.IntN(len(g.cols))] }

func (g *condGen) cond(depth int) string {
	if depth > 0 && g.r.IntN(3) > 0 {
		op := []string{" AND ", " OR ", " AND ", " AND NOT "}[g.r.IntN(4)]
		l, r := g.cond(depth-1), g.cond(depth-1)
		if g.r.IntN(2) == 0 {
			return "(" + l + op + r + ")"
		}
		return l + op + r
	}
	c := g.col()
	switch g.r.IntN(16) {
	case 0, 1, 2, 3:
		return c + " = " + g.value()
	case 4:
		return g.value() + " = " + c
	case 5:
		n := 1 + g.r.IntN(5)
		vals := make([]string, n)
		for i := range vals {
			vals[i] = g.value()
		}
		return c + " IN (" + strings.Join(vals, ", ") + ")"
	case 6:
		return c + " IS NULL"
	case 7:
		return c + " IS NOT NULL"
	case 8:
		return c + []string{" > ", " <= ", " <> ", " LIKE "}[g.r.IntN(4)] + g.value()
	case 9:
		return c + " BETWEEN " + g.value() + " AND " + g.value()
	case 10:
		return "NOT " + c + " = " + g.value()
	case 11:
		return c + " = " + g.col()
	case 12:
		return "CASE WHEN " + g.cond(0) + " THEN 1 ELSE 0 END = " + g.value()
	case 13:
		return "(" + c + ", " + g.col() + ") IN ((" + g.value() + ", " + g.value() + "), (" + g.value() + ", " + g.value() + "))"
	case 14:
		return "coalesce(" + c + ", " + g.value() + ") = " + g.value()
	}
	return "EXISTS (SELECT 1 FROM photos x WHERE x.status = " + g.value() + " AND x.user_id = " + c + ")"
}

// TestRandomConditions runs thousands of random valid conditions through
// GORM and checks every one against the database: well-formed,
// justified, and no row outside the conjunctions matters.
func TestRandomConditions(t *testing.T) {
	db := openDB(t)
	seedMore(t, db)
	o := newOracle(t, db)
	dry := db.Session(&gorm.Session{DryRun: true})
	user := []string{"id", "name", "email", "age", "active", "score", "nick", "level", "manager_id", "deleted_at"}
	photo := []string{"id", "title", "user_id", "status", "album_id"}
	qualify := func(q string, cols []string) []string {
		var out []string
		for _, c := range cols {
			out = append(out, q+"."+c, `"`+q+`"."`+c+`"`)
		}
		return out
	}
	colsets := [][]string{
		append(user, qualify("users", user)...),
		append(append(photo, qualify("photos", photo)...), qualify("User", user)...),
		append(append(photo, qualify("photos", photo)...), qualify("User", user)...),
		append(user, append(qualify("users", user), qualify("Manager", user)...)...),
	}
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	ran, proved, precise := 0, 0, 0
	for range n {
		shape := r.IntN(len(fuzzShapes))
		g := &condGen{r: r, cols: colsets[shape]}
		cond := g.cond(3)
		tx := fuzzShapes[shape](dry, cond, g.vars)
		require.NoError(t, tx.Error, cond)
		tables, err := extract(tx.Statement, depscan.Options{MaxIn: 4})
		require.NoError(t, err)
		c := captured{tx.Statement.SQL.String(), tx.Statement.Vars, tables, nil}
		checkTables(t, o, c)
		if _, err := o.result(o.sqlDB, c); err == nil {
			ran++
		}
		proved += o.check(t, c)
		for _, tab := range tables {
			if !tab.Any() {
				precise++
				break
			}
		}
	}
	t.Logf("%d conditions, %d ran, %d with a precise table, %d rows proved irrelevant by the database", n, ran, precise, proved)
	require.Greater(t, ran, n/2)
	require.Greater(t, precise, n/4)
}
