package admin

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/sqlscan"
)

// Defaults and bounds of Config.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Config configures the admin handler. Only Plugin is required; without
// Authorize every request is refused.
type Config struct {
	// Plugin is the plugin whose cache the pages show. Required.
	Plugin *gormcache.Plugin

	// Authorize decides whether a request may use the admin. It runs for
	// every request, before anything else. Default: nil, which refuses
	// every request with a page explaining how to configure access.
	Authorize func(*http.Request) bool

	// Realm, when set, makes a refused request answer 401 with a Basic
	// authentication challenge for this realm, so that a browser asks for
	// a password (for an Authorize that checks r.BasicAuth). Default: a
	// plain 403.
	Realm string

	// ReadOnly hides the actions and refuses every mutation with 403.
	// Default: off.
	ReadOnly bool

	// PageSize is the number of entries per page of the entry browser
	// when the request names none. Default DefaultPageSize; at most
	// MaxPageSize, which also bounds what a request may ask for.
	PageSize int

	// Models are the models (pointers to model structs) offered by
	// "invalidate model"; their tables are the known tables of the table
	// filter and of "invalidate table", together with Tables. Default:
	// none, and then any table name is accepted.
	Models []any

	// Tables are tables to offer besides those of Models. Default: none.
	Tables []string

	// DB is the database the plugin is registered on. With it, the
	// actions offer "invalidate object" for each model of Models: the
	// entries that depend on one row, given its primary key (see
	// gormcache.InvalidateObject, which reads the row). Default: nil, and
	// that action is not offered.
	DB *gorm.DB

	// Now is the clock that says whether an entry has expired. Default:
	// time.Now.
	Now func() time.Time
}

// handler serves the admin pages and API.
type handler struct {
	cfg    Config
	plugin *gormcache.Plugin
	models []model // Models with their tables
	tables []string
	pages  map[string]*template.Template
	mux    *http.ServeMux
	// allowed is the method of each path, for the 405 of another.
	allowed map[string]string
}

type model struct {
	Name  string // the Go type, "*main.Post"
	Table string
	// Key lists the primary-key columns, and schema is the model parsed by
	// Config.DB, for "invalidate object"; both are empty without it.
	Key    []string
	schema *schema.Schema
}

//go:embed templates static
var assets embed.FS

// New returns the admin handler, to be mounted under any prefix with
// http.StripPrefix (see the package doc). It panics on a programmer error:
// a nil Plugin, a PageSize out of range, a model that is not a GORM model, a
// table that is not a table name or a DB on which Plugin is not registered.
func New(cfg Config) http.Handler {
	if cfg.Plugin == nil {
		panic("admin: Config.Plugin is nil")
	}
	if cfg.DB != nil && cfg.DB.Config.Plugins[cfg.Plugin.Name()] != gorm.Plugin(cfg.Plugin) {
		panic("admin: Config.Plugin is not registered on Config.DB (db.Use(plugin))")
	}
	if cfg.PageSize < 0 || cfg.PageSize > MaxPageSize {
		panic(fmt.Sprintf("admin: PageSize is %d, want 0 (the default) to %d", cfg.PageSize, MaxPageSize))
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &handler{cfg: cfg, plugin: cfg.Plugin}
	var tables []string
	parsed := &sync.Map{}
	for _, m := range cfg.Models {
		// The DB's naming strategy when there is one, GORM's default else.
		var s *schema.Schema
		var err error
		if cfg.DB != nil {
			stmt := &gorm.Statement{DB: cfg.DB}
			err = stmt.Parse(m)
			s = stmt.Schema
		} else {
			s, err = schema.Parse(m, parsed, schema.NamingStrategy{})
		}
		if err != nil {
			panic(fmt.Sprintf("admin: %T is not a GORM model: %v", m, err))
		}
		mm := model{Name: fmt.Sprintf("%T", m), Table: sqlscan.ModelTable(s.Table)}
		tables = append(tables, mm.Table)
		if cfg.DB != nil {
			mm.schema = s
			for _, f := range s.PrimaryFields {
				mm.Key = append(mm.Key, f.DBName)
			}
		}
		h.models = append(h.models, mm)
	}
	for _, t := range append(tables, cfg.Tables...) {
		name := sqlscan.NormalizeTable(t)
		if name == "" {
			panic(fmt.Sprintf("admin: %q in Tables is not a table name", t))
		}
		t = name
		if !slices.Contains(h.tables, t) {
			h.tables = append(h.tables, t)
		}
	}
	slices.Sort(h.tables)
	h.pages = parsePages()
	h.routes()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, errors.New("cross-origin request refused"))
	}))
	return h.secure(cop.Handler(h.mux))
}

func (h *handler) routes() {
	h.mux = http.NewServeMux()
	h.allowed = map[string]string{}
	handle := func(method, path string, fn http.HandlerFunc) {
		h.mux.HandleFunc(method+" "+path, fn)
		if path == "/{$}" {
			path = "/"
		}
		h.allowed[path] = method
	}
	handle("GET", "/{$}", h.storesPage)
	handle("GET", "/entries", h.entriesPage)
	handle("GET", "/entry", h.entryPage)
	handle("GET", "/actions", h.actionsPage)
	for name, a := range h.actions() {
		handle("POST", "/"+name, h.actionPage(name, a))
		handle("POST", "/api/"+name, h.actionAPI(a))
	}
	handle("GET", "/api/store", h.storeAPI)
	handle("GET", "/api/entries", h.entriesAPI)
	handle("GET", "/api/entry", h.entryAPI)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if method, ok := h.allowed[r.URL.Path]; ok {
			if method == http.MethodGet {
				method = "GET, HEAD"
			}
			w.Header().Set("Allow", method)
			h.fail(w, r, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: use %s", r.Method, strings.TrimPrefix(r.URL.Path, "/"), method))
			return
		}
		h.fail(w, r, http.StatusNotFound, errors.New("no such page"))
	})
}

// secure sets the headers of every answer and refuses requests that
// Authorize does not allow, except for the stylesheet, which the pages
// that refuse them use too.
func (h *handler) secure(next http.Handler) http.Handler {
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		if strings.HasPrefix(r.URL.Path, "/static/") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			files.ServeHTTP(w, r)
			return
		}
		if h.cfg.Authorize == nil {
			h.fail(w, r, http.StatusForbidden, errNoAuthorize)
			return
		}
		if !h.cfg.Authorize(r) {
			status := http.StatusForbidden
			if h.cfg.Realm != "" {
				hd.Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q, charset=\"UTF-8\"", h.cfg.Realm))
				status = http.StatusUnauthorized
			}
			h.fail(w, r, status, errors.New("not authorized"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

var errNoAuthorize = errors.New("access is closed: this admin has no Config.Authorize. " +
	"Set admin.Config.Authorize to a function that checks the request (a password with r.BasicAuth and Realm, " +
	"a session, a network), and mount the handler behind it")
