// Command datatypes caches reads of gorm.io/datatypes columns — a UUID, a
// JSON document queried with datatypes.JSONQuery — and shows a write
// through datatypes.JSONSet invalidating them.
//
//	go run ./examples/datatypes
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/google/uuid"
	"gorm.io/datatypes"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/gormcache/gormcache"
)

// Device has columns of gorm.io/datatypes types.
type Device struct {
	ID     uint
	Serial datatypes.UUID
	Owner  datatypes.NullString
	Attrs  datatypes.JSONMap
	Tags   datatypes.JSONSlice[string]
}

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
	db = db.WithContext(ctx)
	if err := db.AutoMigrate(&Device{}); err != nil {
		return err
	}
	serial := datatypes.UUID(uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
	if err := db.Create(&[]Device{
		{Serial: serial, Owner: datatypes.NewNull("ada"), Attrs: datatypes.JSONMap{"role": "web"}, Tags: datatypes.NewJSONSlice([]string{"eu"})},
		{Serial: datatypes.NewUUIDv4(), Attrs: datatypes.JSONMap{"role": "db"}},
	}).Error; err != nil {
		return err
	}

	cached := func() *gorm.DB { return db.Clauses(gormcache.Cache()) }
	webServers := func() (int, error) {
		var ds []Device
		err := cached().Where(datatypes.JSONQuery("attrs").Equals("web", "role")).Find(&ds).Error
		return len(ds), err
	}
	for range 2 {
		var d Device
		if err := cached().Where("serial = ?", serial).First(&d).Error; err != nil {
			return err
		}
		n, err := webServers()
		if err != nil {
			return err
		}
		fmt.Printf("device %s belongs to %s; %d web server(s)\n", d.Serial, d.Owner.V, n)
	}
	// A write to the JSON document invalidates the reads of its row.
	if err := db.Model(&Device{}).Where("serial <> ?", serial).
		UpdateColumn("attrs", datatypes.JSONSet("attrs").Set("role", "web")).Error; err != nil {
		return err
	}
	n, err := webServers()
	if err != nil {
		return err
	}
	fmt.Printf("after the update: %d web server(s)\n", n)
	s := p.Stats()
	fmt.Printf("hits %d, misses %d\n", s.Hits, s.Misses)
	return nil
}
