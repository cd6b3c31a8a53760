package testdb

import (
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// MySQLDSNEnv is the environment variable holding the DSN of the MySQL or
// MariaDB server that tests create their databases on, in the driver's
// format without a database name (root@tcp(127.0.0.1:3306)/).
const MySQLDSNEnv = "GORMCACHE_MYSQL_DSN"

// mysqlDriver is the database/sql driver of gorm.io/driver/mysql.
const mysqlDriver = "mysql"

// MySQL returns a dialector for a new, empty database on the MySQL or
// MariaDB server named by GORMCACHE_MYSQL_DSN, with the server's default
// character set and collation, and parseTime=true as GORM's documentation
// has it. In t.Cleanup its connection pool is closed, then the database is
// dropped. See RequireService for what happens when the server is not
// available.
func MySQL(t testing.TB) gorm.Dialector {
	t.Helper()
	return MySQLWith(t, nil)
}

// MySQLWith is MySQL with the driver's configuration changed by configure
// (when not nil) after the database name and parseTime are set: to test
// interpolateParams, say.
func MySQLWith(t testing.TB, configure func(*gomysql.Config)) gorm.Dialector {
	t.Helper()
	server := RequireService(t, MySQLDSNEnv, "MySQL")
	cfg, err := gomysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("testdb: %s: %v", MySQLDSNEnv, err)
	}
	name := schemaName(t)
	if err := adminExec(mysqlDriver, server, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec(mysqlDriver, server, "DROP DATABASE `"+name+"`"); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	cfg.DBName = name
	cfg.ParseTime = true
	if configure != nil {
		configure(cfg)
	}
	dsn := cfg.FormatDSN()
	return mysql.New(mysql.Config{DSN: dsn, Conn: OpenPool(t, mysqlDriver, dsn)})
}

// MySQLReopen returns a dialector with a pool of its own on the database
// of d, a dialector MySQL or MySQLWith returned, with the driver's
// configuration changed by configure: to read one database with two
// session time zones, say. The pool is closed in t.Cleanup.
func MySQLReopen(t testing.TB, d gorm.Dialector, configure func(*gomysql.Config)) gorm.Dialector {
	t.Helper()
	cfg, err := gomysql.ParseDSN(d.(*mysql.Dialector).DSN)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	configure(cfg)
	dsn := cfg.FormatDSN()
	return mysql.New(mysql.Config{DSN: dsn, Conn: OpenPool(t, mysqlDriver, dsn)})
}
