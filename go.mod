module github.com/gormcache/gormcache

go 1.25.0

require (
	github.com/maypok86/otter/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/sync v0.22.0
	gorm.io/driver/postgres v1.6.3
	gorm.io/driver/sqlite v1.6.0
	gorm.io/gorm v1.31.2
)

require (
	github.com/go-sql-driver/mysql v1.9.3
	go.opentelemetry.io/otel v1.46.0
	go.opentelemetry.io/otel/trace v1.46.0
	gorm.io/driver/mysql v1.5.7
	gorm.io/hints v1.1.2
	gorm.io/plugin/dbresolver v1.6.2
	gorm.io/plugin/optimisticlock v1.1.3
	gorm.io/plugin/soft_delete v1.2.1
)

require filippo.io/edwards25519 v1.1.0 // indirect

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.10.0
	github.com/jackc/puddle/v2 v2.2.2 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/jinzhu/now v1.1.5 // indirect
	github.com/mattn/go-sqlite3 v1.14.22
	github.com/redis/go-redis/v9 v9.22.0
	go.uber.org/atomic v1.11.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
)
