package gormcache_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// The tests of this file read each database's own column types, as a miss
// and as hits, and compare them with the database read: what database/sql
// and gorm.Scan make of the driver's values must not change.

// postgresKind has a column of each of PostgreSQL's own types, read into
// pgx's Scanners (pgtype), into strings and bytes, and into Go's numbers
// and times.
type postgresKind struct {
	ID      uint
	Num     pgtype.Numeric   `gorm:"type:numeric(20,6)"`
	NumText string           `gorm:"type:numeric(20,6)"`
	NumF    float64          `gorm:"type:numeric(20,6)"`
	Ival    pgtype.Interval  `gorm:"type:interval"`
	IvalS   string           `gorm:"type:interval"`
	UUID    pgtype.UUID      `gorm:"type:uuid"`
	UUIDS   string           `gorm:"type:uuid"`
	Clock   pgtype.Time      `gorm:"type:time without time zone"`
	ClockS  string           `gorm:"type:time without time zone"`
	Day     pgtype.Date      `gorm:"type:date"`
	DayT    time.Time        `gorm:"type:date"`
	Stamp   pgtype.Timestamp `gorm:"type:timestamp without time zone"`
	StampT  time.Time        `gorm:"type:timestamp without time zone"`
	Inet    string           `gorm:"type:inet"`
	Cidr    string           `gorm:"type:cidr"`
	Mac     string           `gorm:"type:macaddr"`
	Words   string           `gorm:"type:text[]"`
	Ints    []byte           `gorm:"type:int4[]"`
	Cash    string           `gorm:"type:money"`
	Doc     string           `gorm:"type:xml"`
	Blob    []byte           `gorm:"type:bytea"`
	Jb      []byte           `gorm:"type:jsonb"`
	Js      string           `gorm:"type:json"`
	Pairs   pgtype.Hstore    `gorm:"type:hstore"`
	Pt      pgtype.Point     `gorm:"type:point"`
	Bits    pgtype.Bits      `gorm:"type:bit varying(16)"`
	Search  string           `gorm:"type:tsvector"`
	Span    string           `gorm:"type:tstzrange"`
	Small   int16            `gorm:"type:smallint"`
	Real    float32          `gorm:"type:real"`
	Padded  string           `gorm:"type:char(5)"`
	Oid     uint32           `gorm:"type:oid"`
}

// TestEquivalencePostgresTypes reads PostgreSQL's own types into structs
// and into maps.
func TestEquivalencePostgresTypes(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "postgres" {
			t.Skip("PostgreSQL's own types")
		}
		checkEquivalence(t, b, func(e *env) {
			require.NoError(e.t, e.db.Exec("CREATE EXTENSION IF NOT EXISTS hstore").Error)
			require.NoError(e.t, e.db.AutoMigrate(&postgresKind{}))
			require.NoError(e.t, e.db.Exec(`INSERT INTO postgres_kinds (num, num_text, num_f, ival, ival_s, uuid, uuid_s,
					clock, clock_s, day, day_t, stamp, stamp_t, inet, cidr, mac, words, ints, cash, doc, blob, jb, js,
					pairs, pt, bits, search, span, small, real, padded, oid) VALUES
					(123.456, 1e10, 0.1, '1 day 02:03:04.5', '-3 months', '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
					 '6ba7b810-9dad-11d1-80b4-00c04fd430c8', '13:14:15.123', '23:59:59', '2024-02-29', '1999-12-31',
					 '2024-03-31 01:30:00.123456', '2024-03-31 01:30:00', '192.168.0.1/24', '10.0.0.0/8',
					 '08:00:2b:01:02:03', '{a,"b c",NULL}', '{1,2,3}', 12.34, '<a>x</a>', '\x00ff',
					 '{"b": [1, 2], "a": null}', '{"x":1}', 'a=>1,b=>NULL', '(1.5,2)', B'101', 'the quick fox',
					 '[2024-01-01,2024-02-01)', -7, 1.25, 'ab', 42),
					(NULL, 0, 0, '0', '0', NULL, '00000000-0000-0000-0000-000000000000', NULL, '00:00', NULL,
					 '0001-01-01', NULL, '2000-01-01', '::1', '::/0', '00:00:00:00:00:00', '{}', '{}', 0, '<b/>', '',
					 'null', '[]', '', '(0,0)', B'', '', 'empty', 0, 0, '', 0)`).Error)
		}, []equivalenceRead{
			{"structs", readByID[postgresKind](func(db *gorm.DB) *gorm.DB { return db })},
			// pgx renders an hstore it reads in binary as text from a Go
			// map, in no set order: the raw column can differ between two
			// database reads.
			{"maps", readByID[map[string]any](func(db *gorm.DB) *gorm.DB { return db.Model(&postgresKind{}).Omit("pairs") })},
		})
	})
}

// mysqlKind has a column of each of MySQL's and MariaDB's own types,
// MariaDB's INET6 and UUID included.
type mysqlKind struct {
	ID      uint
	Amount  string       `gorm:"type:decimal(20,6)"`
	AmountF float64      `gorm:"type:decimal(20,6)"`
	Bit     []byte       `gorm:"type:bit(12)"`
	Mood    string       `gorm:"type:enum('a','b','c')"`
	Flags   string       `gorm:"type:set('x','y','z')"`
	Yr      int          `gorm:"type:year"`
	Tm      string       `gorm:"type:time(3)"`
	Dt      time.Time    `gorm:"type:date"`
	DtN     sql.NullTime `gorm:"type:date"`
	Dtt     time.Time    `gorm:"type:datetime(6)"`
	Ts      time.Time    `gorm:"type:timestamp(3) NULL"`
	Js      string       `gorm:"type:json"`
	Bl      []byte       `gorm:"type:blob"`
	Tx      string       `gorm:"type:mediumtext"`
	Tiny    bool         `gorm:"type:tinyint(1)"`
	Med     uint32       `gorm:"type:mediumint unsigned"`
	Dbl     float64      `gorm:"type:double"`
	Flt     float32      `gorm:"type:float"`
	Bin     []byte       `gorm:"type:binary(4)"`
	Vb      []byte       `gorm:"type:varbinary(8)"`
	In6     string       `gorm:"type:inet6"`
	Uu      string       `gorm:"type:uuid"`
	BigU    uint64       `gorm:"type:bigint unsigned"`
	Geo     []byte       `gorm:"type:point"`
}

// TestEquivalenceMySQLTypes reads MySQL's and MariaDB's own types into
// structs and into maps, by statements without vars, which the driver sends
// in the text protocol, and with one, prepared: the binary protocol.
func TestEquivalenceMySQLTypes(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "mysql" {
			t.Skip("MySQL's own types")
		}
		checkEquivalence(t, b, func(e *env) {
			require.NoError(e.t, e.db.AutoMigrate(&mysqlKind{}))
			require.NoError(e.t, e.db.Exec(`INSERT INTO mysql_kinds (amount, amount_f, bit, mood, flags, yr, tm, dt,
					dt_n, dtt, ts, js, bl, tx, tiny, med, dbl, flt, bin, vb, in6, uu, big_u, geo) VALUES
					(123.456, 0.1, b'101', 'b', 'x,z', 2024, '-838:59:59.000', '2024-02-29', NULL,
					 '2024-03-31 01:30:00.123456', '2038-01-19 03:14:07.999', '{"b": [1, 2], "a": null}', x'00ff',
					 'héllo', 1, 16777215, 1e300, 1.5, x'01020304', x'0102', '::1',
					 '6ba7b810-9dad-11d1-80b4-00c04fd430c8', 18446744073709551615, ST_GeomFromText('POINT(1 2)')),
					(0, 0, b'0', 'a', '', 1901, '00:00:00', '1000-01-01', '1000-01-01', '1000-01-01 00:00:00', NULL,
					 'null', x'', '', 0, 0, 0, 0, x'00000000', x'', '::ffff:0.0.0.0',
					 '00000000-0000-0000-0000-000000000000', 0, ST_GeomFromText('POINT(0 0)'))`).Error)
		}, []equivalenceRead{
			{"structs", readByID[mysqlKind](func(db *gorm.DB) *gorm.DB { return db })},
			{"structs, prepared", readByID[mysqlKind](func(db *gorm.DB) *gorm.DB { return db.Where("id > ?", 0) })},
			{"maps", readByID[map[string]any](func(db *gorm.DB) *gorm.DB { return db.Model(&mysqlKind{}) })},
			{"maps, prepared", readByID[map[string]any](func(db *gorm.DB) *gorm.DB { return db.Model(&mysqlKind{}).Where("id > ?", 0) })},
		})
	})
}

// readByID returns a read of the rows scope selects, by ID, into a []T.
func readByID[T any](scope func(*gorm.DB) *gorm.DB) func(db *gorm.DB) outcome {
	return func(db *gorm.DB) outcome {
		var got []T
		r := scope(db).Order("id").Find(&got)
		return outcome{got, r.RowsAffected, r.Error}
	}
}
