package depscan_test

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache/deps"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// The models of the tests: every relation kind, a composite key, soft
// delete, Valuer fields and columns Canon cannot compare.
type (
	Company struct {
		ID   uint
		Name string
	}
	User struct {
		ID        uint
		Name      string
		Email     *string
		Age       int
		Active    bool
		Score     float64
		Nick      sql.NullString
		Level     sql.NullInt64
		Folded    string `gorm:"type:varchar(20) collate nocase"`
		CompanyID *uint
		Company   *Company
		ManagerID *uint
		Manager   *User
		Photos    []Photo
		Languages []Language `gorm:"many2many:user_languages"`
		CreatedAt time.Time
		DeletedAt gorm.DeletedAt `gorm:"index"`
	}
	Photo struct {
		ID      uint
		Title   string
		UserID  uint
		User    *User
		Status  int
		AlbumID *uint
	}
	Language struct {
		Code string `gorm:"primaryKey"`
		Name string
	}
	Member struct {
		OrgID  int `gorm:"primaryKey;autoIncrement:false"`
		UserID int `gorm:"primaryKey;autoIncrement:false"`
		Role   string
	}
	Badge struct {
		ID     uint
		OrgID  int
		UserID int
		Member Member `gorm:"foreignKey:OrgID,UserID;references:OrgID,UserID"`
	}
	Message struct {
		ID       uint
		Body     string
		SenderID uint
		Sender   User
	}
	Reply struct {
		ID        uint
		MessageID uint
		Message   Message
	}
)

func models() []any {
	return []any{&Company{}, &User{}, &Photo{}, &Language{}, &Member{}, &Badge{}, &Message{}, &Reply{}}
}

// openDB returns a migrated and seeded SQLite database.
func openDB(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(sqlite.Open("file::memory:"), &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	require.NoError(t, err)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	sqlDB.SetMaxOpenConns(1) // one in-memory database
	t.Cleanup(func() { sqlDB.Close() })
	require.NoError(t, db.AutoMigrate(models()...))
	seed(t, db)
	return db
}

func seed(t testing.TB, db *gorm.DB) {
	t.Helper()
	email := "a@x"
	acme := Company{Name: "acme"}
	require.NoError(t, db.Create(&acme).Error)
	boss := User{Name: "boss", Age: 50, CompanyID: &acme.ID}
	require.NoError(t, db.Create(&boss).Error)
	users := []User{
		{Name: "ann", Email: &email, Age: 30, Active: true, ManagerID: &boss.ID, CompanyID: &acme.ID,
			Languages: []Language{{Code: "en", Name: "English"}, {Code: "fr", Name: "French"}},
			Photos:    []Photo{{Title: "a", Status: 1}, {Title: "b", Status: 2}}},
		{Name: "bob", Age: 7, Nick: sql.NullString{String: "b", Valid: true},
			Languages: []Language{{Code: "de", Name: "German"}},
			Photos:    []Photo{{Title: "c", Status: 1}}},
		{Name: "07", Age: 0},
	}
	require.NoError(t, db.Create(&users).Error)
	require.NoError(t, db.Delete(&users[2]).Error)
	require.NoError(t, db.Create(&[]Member{{OrgID: 1, UserID: 2, Role: "admin"}, {OrgID: 1, UserID: 3, Role: "dev"}}).Error)
	require.NoError(t, db.Create(&[]Badge{{OrgID: 1, UserID: 2}, {OrgID: 1, UserID: 3}}).Error)
	m := Message{Body: "hi", SenderID: users[0].ID}
	require.NoError(t, db.Create(&m).Error)
	require.NoError(t, db.Create(&Reply{MessageID: m.ID}).Error)
}

// captured is a query as GORM built it, and what Extract made of it.
type captured struct {
	sql    string
	vars   []any
	tables []deps.Table
	err    error
}

// extract runs Extract on stmt with the analysis of its SQL, as the
// plugin does on a miss.
func extract(stmt *gorm.Statement, opts depscan.Options) ([]deps.Table, error) {
	a := sqlscan.Analyze(stmt.SQL.String())
	return depscan.Extract(stmt, &a, opts)
}

// capture runs fn on db and extracts, with opts, the dependencies of every
// query it runs, preloads included, right after GORM built it.
func capture(t testing.TB, db *gorm.DB, opts depscan.Options, fn func(*gorm.DB) error) []captured {
	t.Helper()
	var got []captured
	name := "depscan_test:capture"
	extract := func(tx *gorm.DB) {
		callbacks.BuildQuerySQL(tx)
		tables, err := extract(tx.Statement, opts)
		got = append(got, captured{tx.Statement.SQL.String(), slices.Clone(tx.Statement.Vars), tables, err})
	}
	query, row := db.Callback().Query(), db.Callback().Row()
	require.NoError(t, query.Before("gorm:query").Register(name, extract))
	require.NoError(t, row.Before("gorm:row").Register(name, extract))
	defer func() {
		require.NoError(t, query.Remove(name))
		require.NoError(t, row.Remove(name))
	}()
	require.NoError(t, fn(db))
	return got
}
