package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gormcache/gormcache/store"
)

var errReadOnly = errors.New("this admin is read-only (Config.ReadOnly)")

// page is what every template gets.
type page struct {
	Title    string
	Help     string
	Message  string // the result of an action, or an error
	Error    bool
	ReadOnly bool
	// Root leads from the page back to the mount point ("", "../"...), for
	// the stylesheet and the navigation of pages at any depth.
	Root string
	// Outside is set on the pages of requests Authorize refused: they link
	// to nothing that would be refused too.
	Outside bool
	Data    any
}

// when formats a time for people, with its zone; "unknown" for zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.Format("2006-01-02 15:04:05 -07:00")
}

// parsePages parses each page with the layout. The templates are embedded:
// an error is a bug, hence the panic.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": when,
		"bytes": func(n int64) string {
			switch {
			case n < 0:
				return "unknown"
			case n < 1<<10:
				return fmt.Sprintf("%d B", n)
			case n < 1<<20:
				return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
			}
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		},
		"percent": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"int64":   func(n int) int64 { return int64(n) },
		"add":     func(a, b int) int { return a + b },
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"stores", "entries", "entry", "actions", "confirm", "result", "error"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(assets, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.ReadOnly = h.cfg.ReadOnly
	p.Root = strings.Repeat("../", max(strings.Count(r.URL.Path, "/")-1, 0))
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, p); err != nil {
		log.Printf("admin: rendering %s: %v", name, err)
		http.Error(w, "admin: rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// statusOf is the status an error answers with.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, errReadOnly):
		return http.StatusForbidden
	case errors.Is(err, errUnsupported), errors.Is(err, errNoDB):
		return http.StatusNotImplemented
	}
	return http.StatusBadGateway // the store failed
}

// maxMessage bounds an error message, whatever it quotes.
const maxMessage = 2000

// fail answers err as a page or, under api/, as JSON {"error": ...}; status
// 0 means statusOf(err).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == 0 {
		status = statusOf(err)
	}
	msg := strings.TrimPrefix(err.Error(), errBadRequest.Error()+": ")
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	outside := status == http.StatusUnauthorized || (status == http.StatusForbidden && !errors.Is(err, errReadOnly))
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Message: msg, Error: true, Outside: outside,
		Data: status == http.StatusUnauthorized})
}

func (h *handler) storesPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.storeView(r.Context())
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	h.render(w, r, http.StatusOK, "stores", page{Title: "Store", Data: v,
		Help: "The store that holds the cached query results, what it reports of itself, and the plugin's counters since it started. " +
			"A hit is a query answered from the cache, a miss one that went to the database, a fill a result stored after a miss. " +
			"Per table, a query counts for its main table (the model's), and an invalidation for the table whose stamps it renewed."})
}

func (h *handler) entriesPage(w http.ResponseWriter, r *http.Request) {
	v, err := h.listRequest(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	help := "Search finds a word anywhere in the SQL or the key, with its case (published, author_id = 3), " +
		"or matches both whole with a glob: * any text, ? one character, [abc] one of a set, \\ quotes the next. " +
		"The usual direction of a sort lists keys from A, the newest, the soonest to expire, the largest and the most read first. " +
		"An invalid entry was computed before a write it depends on; the next read replaces it."
	if !h.cfg.ReadOnly {
		help += " Tick entries, or select all on the page, to delete them together; delete matching deletes every entry the filters select, on every page."
	}
	h.render(w, r, http.StatusOK, "entries", page{Title: "Entries", Help: help, Data: entriesData{ListView: v, Tables: h.tables}})
}

type entriesData struct {
	ListView
	Tables []string
}

func (h *handler) entryPage(w http.ResponseWriter, r *http.Request) {
	d, f, err := h.entryRequest(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	const maxRows = 200
	data := entryData{EntryDetail: d, RowsShown: d.Content.Rows, Stamps: f.Get("stamps") == "1",
		Pretty: pretty(d.Content.Text), Here: "entry?id=" + d.ID}
	if len(data.RowsShown) > maxRows {
		data.RowsShown, data.Hidden = data.RowsShown[:maxRows], len(data.RowsShown)-maxRows
	}
	if info, err := h.describe(r.Context()); err == nil {
		data.CanTTL = slices.Contains(info.Capabilities, store.CapTTL)
	}
	h.render(w, r, http.StatusOK, "entry", page{Title: "Entry", Data: data,
		Help: "One cached result: the SQL it answers, the rows it replays, and the dependencies it was stored with. " +
			"It stays valid while every dependency's stamp matches the current one; a write renews the stamps of what it changes."})
}

type entryData struct {
	EntryDetail
	RowsShown [][]string
	Hidden    int
	Stamps    bool   // show the stamps of the dependencies
	Pretty    string // Content.Text, indented when it is JSON
	Here      string // the page's own link
	CanTTL    bool   // the store can change the TTL
}

// CreatedAt is Created, zero when unknown.
func (v EntryView) CreatedAt() time.Time {
	if v.Created == nil {
		return time.Time{}
	}
	return *v.Created
}

func (h *handler) actionsPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "actions", page{Title: "Actions", Data: struct {
		Models  []model
		Tables  []string
		Objects bool // Config.DB is set: offer "invalidate object"
	}{h.models, h.tables, h.cfg.DB != nil},
		Help: "Invalidating a model or table makes every entry that reads it invalid: the next read goes to the database. " +
			"Invalidating an object, by its primary key, makes invalid only the entries that depend on its row. " +
			"Purge removes the entries that expired or no longer validate; flush removes everything. Each asks for confirmation."})
}

func (h *handler) storeAPI(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		h.fail(w, r, 0, err)
		return
	}
	v, err := h.storeView(r.Context())
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) entriesAPI(w http.ResponseWriter, r *http.Request) {
	v, err := h.listRequest(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) entryAPI(w http.ResponseWriter, r *http.Request) {
	d, _, err := h.entryRequest(r)
	if err != nil {
		h.fail(w, r, 0, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// entryRequest returns the entry the query of r names, and the query.
func (h *handler) entryRequest(r *http.Request) (EntryDetail, url.Values, error) {
	f, err := query(r)
	if err != nil {
		return EntryDetail{}, nil, err
	}
	key, err := oneKey(f)
	if err != nil {
		return EntryDetail{}, nil, err
	}
	d, err := h.detail(r.Context(), key)
	return d, f, err
}
