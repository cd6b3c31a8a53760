package memory

import (
	"fmt"
	"math"
	"time"
)

// Defaults of the fields of Config.
const (
	defaultMaxBytes   = 64 << 20
	defaultMaxEntries = 1_000_000
	defaultMaxStamps  = 1_000_000
)

// Config configures a Store. The zero value is ready to use.
type Config struct {
	// MaxBytes bounds the memory held by entries: keys, values,
	// dependencies and bookkeeping, but not stamps. An entry larger than
	// MaxBytes is not kept. Default 64 MiB.
	MaxBytes int64

	// MaxEntries bounds the number of entries. Every entry is charged at
	// least MaxBytes/MaxEntries bytes, which keeps both bounds with one
	// weighted cache (see the package doc). Default 1_000_000.
	MaxEntries int

	// MaxStamps bounds the number of dependency stamps that writes store,
	// each about 100 bytes with the strings of its Dep. Evicting a stamp
	// invalidates the entries that recorded it, and some of those that
	// recorded no stamp of their own (see the package doc). Default
	// 1_000_000.
	MaxStamps int

	// Clock is the time source of TTLs. Default: the system clock. A fake
	// clock makes expiry tests instant and deterministic.
	Clock Clock
}

// Clock tells the time. It is read on every Get and Set, from many
// goroutines at once. Tests use a fake clock that moves only when told to:
//
//	type fakeClock struct{ now atomic.Int64 }
//
//	func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
//	func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// otterClock adapts a Clock to otter.Clock.
type otterClock struct{ Clock }

func (c otterClock) NowNano() int64 { return c.Now().UnixNano() }

// Tick drives otter's periodic removal of expired entries, which is what
// keeps them from holding memory in an idle store; it ticks in real time
// whatever the Clock says.
func (c otterClock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }

// withDefaults returns cfg with its zero fields set to their defaults, or an
// error for a field out of range.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.MaxBytes < 0 {
		return cfg, fmt.Errorf("memory: MaxBytes is %d, want 0 (the default) or more", cfg.MaxBytes)
	}
	if cfg.MaxEntries < 0 {
		return cfg, fmt.Errorf("memory: MaxEntries is %d, want 0 (the default) or more", cfg.MaxEntries)
	}
	if cfg.MaxStamps < 0 {
		return cfg, fmt.Errorf("memory: MaxStamps is %d, want 0 (the default) or more", cfg.MaxStamps)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = defaultMaxBytes
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = defaultMaxEntries
	}
	if cfg.MaxStamps == 0 {
		cfg.MaxStamps = defaultMaxStamps
	}
	// otter weighs entries with a uint32.
	if floor := cfg.minWeight(); floor > math.MaxUint32 {
		return cfg, fmt.Errorf("memory: MaxBytes/MaxEntries is %d bytes, want at most %d", floor, uint64(math.MaxUint32))
	}
	return cfg, nil
}

// minWeight is the least weight of an entry, MaxBytes/MaxEntries rounded up
// so that MaxEntries entries weigh at least MaxBytes.
func (cfg Config) minWeight() uint64 {
	return (uint64(cfg.MaxBytes) + uint64(cfg.MaxEntries) - 1) / uint64(cfg.MaxEntries)
}
