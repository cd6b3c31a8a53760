package gormcache_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
)

// nativeKind has a column of each of PostgreSQL's own types that pgx hands
// database/sql as text, read into pgx's Scanners (pgtype), into strings and
// bytes, and into Go's numbers and times.
type nativeKind struct {
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

// TestEquivalencePostgresTypes checks that hits of PostgreSQL's own types
// decode as the database read does, into structs and into maps, with the
// decoded results copied and replayed.
func TestEquivalencePostgresTypes(t *testing.T) {
	each(t, func(t *testing.T, b backend) {
		if b.Name != "postgres" {
			t.Skip("PostgreSQL's own types")
		}
		for _, hits := range []struct {
			name    string
			decoded int64
		}{{"copied", 0}, {"replayed", -1}} {
			t.Run(hits.name, func(t *testing.T) {
				e := newEnv(t, b, gormcache.Config{ResultMemory: hits.decoded})
				require.NoError(t, e.db.Exec("CREATE EXTENSION IF NOT EXISTS hstore").Error)
				require.NoError(t, e.db.AutoMigrate(&nativeKind{}))
				require.NoError(t, e.db.Exec(`INSERT INTO native_kinds (num, num_text, num_f, ival, ival_s, uuid, uuid_s,
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
				reads := map[string]func(db *gorm.DB) outcome{
					"structs": func(db *gorm.DB) outcome {
						var got []nativeKind
						r := db.Order("id").Find(&got)
						return outcome{got, r.RowsAffected, r.Error}
					},
					// pgx renders an hstore it reads in binary as text
					// from a Go map, in no set order: the raw column can
					// differ between two database reads.
					"maps": func(db *gorm.DB) outcome {
						var got []map[string]any
						r := db.Model(&nativeKind{}).Omit("pairs").Order("id").Find(&got)
						return outcome{got, r.RowsAffected, r.Error}
					},
				}
				for name, read := range reads {
					t.Run(name, func(t *testing.T) {
						want := read(e.uncached())
						var miss, hit outcome
						e.mustMiss(func() { miss = read(e.cached()) })
						e.mustHit(func() { hit = read(e.cached()) })
						requireSameOutcome(t, "miss", miss, want)
						requireSameOutcome(t, "hit", hit, want)
					})
				}
			})
		}
	})
}
