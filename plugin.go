package gormcache

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/coalesce"
	"github.com/gormcache/gormcache/internal/depscan"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/internal/memo"
	"github.com/gormcache/gormcache/internal/replay"
	"github.com/gormcache/gormcache/internal/rowimage"
	"github.com/gormcache/gormcache/internal/sqlscan"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/memory"
)

// Plugin is the gormcache GORM plugin. Create it with New and register it
// with db.Use. One Plugin may serve several *gorm.DB that share a database.
type Plugin struct {
	cfg     Config
	store   store.Store
	initErr error
	global  store.Dep // every entry depends on it; InvalidateAll renews it
	// get is the store's Peek when it has one (peeks), else its Get.
	get   func(ctx context.Context, key string) ([]byte, bool, error)
	peeks bool

	stats     counters
	closed    atomic.Bool
	ownsStore bool // the store is the default memory store New made
	player    *replay.Player
	decoded   *decodedCache // nil when Config.ResultMemory is negative
	// analyses holds the sqlscan analyses of SQL texts: a statement built
	// again has the same text.
	analyses *memo.Map[string, *sqlscan.Analysis]
	// extractor proves the dependencies of reads, remembering, per
	// statement, what depends on its SQL alone.
	extractor *depscan.Extractor
	flights   coalesce.Group[*flight] // the misses under way, by key
	// remembering holds the Remember calls under way, by key. The first
	// caller runs fn on its own goroutine, as it would without the plugin
	// (a runtime.Goexit in fn ends it); the others wait as long as their
	// contexts let them.
	remembering coalesce.Group[*rememberFlight]
	scopes      scopes // what request scopes share

	policies sync.Map // *schema.Schema -> Policy
	cascades cascades
	rows     rowimage.Reader // the rows writes change
	// catalogues holds, by database identity, the *catalogue read of it.
	catalogues sync.Map
	wrappers   sync.Map  // *sql.DB -> the plugin's wrapper of it (see wrap)
	databases  databases // the identity of each database read

	origQuery func(*gorm.DB)
	origRow   func(*gorm.DB)
	initOnce  sync.Mutex
	logger    atomic.Pointer[logger.Interface]

	lastLog    atomic.Int64 // unix nanos of the last logged store error
	suppressed atomic.Int64 // store errors not logged since then
}

// New returns a Plugin configured by cfg. Configuration errors are returned
// by Initialize, that is by db.Use.
func New(cfg Config) *Plugin {
	p := &Plugin{cfg: cfg, player: replay.NewPlayer()}
	if p.cfg.TTL == 0 {
		p.cfg.TTL = DefaultTTL
	}
	p.global = entry.Global(cfg.Prefix)
	if p.initErr = cfg.validate(); p.initErr != nil {
		return p
	}
	if p.cfg.MaxWriteRows == 0 {
		p.cfg.MaxWriteRows = DefaultMaxWriteRows
	}
	if p.cfg.ResultMemory == 0 {
		p.cfg.ResultMemory = DefaultResultMemory
	}
	if p.cfg.ScopeMemory == 0 {
		p.cfg.ScopeMemory = DefaultScopeMemory
	}
	p.store = cfg.Store
	if p.store == nil {
		if p.store, p.initErr = memory.New(memory.Config{}); p.initErr != nil {
			return p
		}
		p.ownsStore = true
	}
	p.get = p.store.Get
	if pk, ok := p.store.(store.Peeker); ok {
		p.get, p.peeks = pk.Peek, true
	}
	if p.decoded, p.initErr = newDecodedCache(p.cfg.ResultMemory, p.peeks); p.initErr != nil {
		return p
	}
	p.analyses = memo.New(analysesBytes, func(sql string, a *sqlscan.Analysis) int64 {
		return int64(2*len(sql)+analysisOverhead) + int64(cap(a.Tokens))*tokenBytes
	})
	p.extractor = depscan.NewExtractor(extractorStatements)
	return p
}

// unprepared returns the pool under pool when pool prepares its statements
// (PrepareStmt): the plugin's own queries of the database (its identity,
// its foreign keys) are not the application's, and must not fill its
// prepared-statement cache.
func unprepared(pool gorm.ConnPool) gorm.ConnPool {
	if ps, ok := pool.(*gorm.PreparedStmtDB); ok {
		return ps.ConnPool
	}
	return pool
}

// The analyses of SQL texts are kept up to analysesBytes, each weighing
// twice its text, analysisOverhead (the Analysis, 96 bytes, its table
// names and slices) and tokenBytes per token it holds: a statement of
// GORM's of 120 bytes and 24 tokens weighs 650 bytes, 290 of them tokens.
// A text longer than maxAnalysedSQL is analysed on every use.
const (
	// extractorStatements is the number of statements whose proofs of
	// dependencies the plugin keeps: an application's read statements.
	extractorStatements = 4096

	analysesBytes    = 4 << 20
	analysisOverhead = 128
	maxAnalysedSQL   = 8 << 10
	// tokenBytes is unsafe.Sizeof(sqlscan.Span{}), 12 bytes: a token as
	// an Analysis keeps it, offsets into the SQL text.
	tokenBytes = int64(unsafe.Sizeof(sqlscan.Span{}))
)

// analyze returns sqlscan.Analyze(sql), shared: it must not be modified.
// Analysing a statement of GORM's costs about a microsecond; looking it up
// a tenth of that.
func (p *Plugin) analyze(sql string) *sqlscan.Analysis {
	if a, ok := p.analyses.Get(sql); ok {
		return a
	}
	a := sqlscan.Analyze(sql)
	if len(sql) <= maxAnalysedSQL {
		p.analyses.Add(sql, &a)
	}
	return &a
}

// Name implements gorm.Plugin.
func (p *Plugin) Name() string { return "gormcache" }

// Close releases what the plugin owns: the goroutine and the idle
// connections that replay stored rows, and the store it made itself when
// Config.Store was nil; a store given in Config.Store is the caller's to
// close. Call it when the databases the plugin is registered on are no
// longer used: after Close, their reads bypass the cache (their writes
// still invalidate, so that other instances sharing the store stay fresh).
func (p *Plugin) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.player.Close()
	if c, ok := p.store.(interface{ Close() error }); ok && p.ownsStore {
		err = errors.Join(err, c.Close())
	}
	return err
}

// Stats returns a snapshot of the plugin's counters.
func (p *Plugin) Stats() Stats { return p.stats.snapshot() }

// Store returns the store the plugin uses.
func (p *Plugin) Store() store.Store { return p.store }

// Config returns the configuration the plugin runs with: the one New was
// given, its defaults applied, except Store, which stays as given (Store
// returns the store in use).
func (p *Plugin) Config() Config { return p.cfg }

// Callback names the plugin registers.
const (
	cbAdopt        = "gormcache:adopt_transaction"
	cbCreate       = "gormcache:after_create"
	cbBeforeUpdate = "gormcache:before_update"
	cbUpdate       = "gormcache:after_update"
	cbBeforeDelete = "gormcache:before_delete"
	cbDelete       = "gormcache:after_delete"
	cbRaw          = "gormcache:after_raw"
)

// Initialize implements gorm.Plugin: it replaces the query and row callbacks,
// registers the write callbacks and wraps the connection pool so that
// transactions invalidate after commit. db.ConnPool is then the plugin's
// wrapper (db.DB() still returns the *sql.DB), except with PrepareStmt, where
// it stays a *gorm.PreparedStmtDB whose own ConnPool is wrapped. Calling it
// again for the same db (as dbresolver does) changes nothing.
func (p *Plugin) Initialize(db *gorm.DB) error {
	if p.initErr != nil {
		return p.initErr
	}
	p.initOnce.Lock()
	defer p.initOnce.Unlock()
	p.logger.CompareAndSwap(nil, &db.Logger)

	if ps, ok := db.ConnPool.(*gorm.PreparedStmtDB); ok {
		// Wrap the pool it prepares on, so that db.ConnPool stays what
		// GORM made it: a *gorm.PreparedStmtDB.
		ps.ConnPool = p.wrap(ps.ConnPool)
	} else {
		db.ConnPool = p.wrap(db.ConnPool)
	}
	if db.Statement != nil {
		db.Statement.ConnPool = db.ConnPool
	}
	if db.Callback().Create().Get(cbCreate) != nil {
		return nil // callbacks already registered on this db
	}
	if err := p.wrapResolver(db); err != nil {
		return fmt.Errorf("gormcache: registering callbacks: %w", err)
	}

	query := db.Callback().Query()
	row := db.Callback().Row()
	origQuery, origRow := query.Get("gorm:query"), row.Get("gorm:row")
	if origQuery == nil || origRow == nil {
		return fmt.Errorf("%w: GORM's default gorm:query and gorm:row callbacks are not registered", ErrConfig)
	}
	if p.origQuery == nil {
		p.origQuery, p.origRow = origQuery, origRow
	}

	create, update, del := db.Callback().Create(), db.Callback().Update(), db.Callback().Delete()
	steps := []error{
		query.Replace("gorm:query", p.query),
		row.Replace("gorm:row", p.row),
		create.After("gorm:begin_transaction").Before("gorm:before_create").Register(cbAdopt, p.adoptTransaction),
		update.After("gorm:begin_transaction").Before("gorm:setup_reflect_value").Register(cbAdopt, p.adoptTransaction),
		del.After("gorm:begin_transaction").Before("gorm:before_delete").Register(cbAdopt, p.adoptTransaction),
		create.After("gorm:create").Before("gorm:save_after_associations").Register(cbCreate, p.afterCreate),
		update.After("gorm:save_before_associations").Before("gorm:update").Register(cbBeforeUpdate, p.beforeUpdate),
		update.After("gorm:update").Before("gorm:save_after_associations").Register(cbUpdate, p.afterUpdate),
		del.After("gorm:delete_before_associations").Before("gorm:delete").Register(cbBeforeDelete, p.beforeDelete),
		del.After("gorm:delete").Before("gorm:after_delete").Register(cbDelete, p.afterDelete),
		db.Callback().Raw().After("gorm:raw").Register(cbRaw, p.afterRaw),
	}
	for _, err := range steps {
		if err != nil {
			return fmt.Errorf("gormcache: registering callbacks: %w", err)
		}
	}
	return nil
}

// policyOf returns the Policy the model of s declares (zero when none).
func (p *Plugin) policyOf(s *schema.Schema) Policy {
	if s == nil {
		return Policy{}
	}
	if v, ok := p.policies.Load(s); ok {
		return v.(Policy)
	}
	var pol Policy
	if pr, ok := reflect.New(s.ModelType).Interface().(Policier); ok {
		pol = pr.CachePolicy()
	}
	p.policies.Store(s, pol)
	return pol
}

// precisionOf returns the precision of writes to the table of s, and of
// reads' dependencies on it.
func (p *Plugin) precisionOf(s *schema.Schema) Precision {
	return p.precision(p.policyOf(s))
}

// precision returns the precision of a model whose policy is pol.
func (p *Plugin) precision(pol Policy) Precision {
	if pol.Precision != DefaultPrecision {
		return pol.Precision
	}
	if p.cfg.Precision == TableLevel {
		return TableLevel
	}
	return RowLevel
}

// logError counts a store failure and logs it, at most once every 10
// seconds with the number of failures not logged in between.
func (p *Plugin) logError(ctx context.Context, err error) {
	p.stats.errors.Add(1)
	now := time.Now().UnixNano()
	last := p.lastLog.Load()
	if now-last < int64(10*time.Second) || !p.lastLog.CompareAndSwap(last, now) {
		p.suppressed.Add(1)
		return
	}
	l := p.logger.Load()
	if l == nil || *l == nil {
		return
	}
	if n := p.suppressed.Swap(0); n > 0 {
		(*l).Error(ctx, "gormcache: cache failure, answered without the cache: %v (and %d more failures)", err, n)
		return
	}
	(*l).Error(ctx, "gormcache: cache failure, answered without the cache: %v", err)
}
