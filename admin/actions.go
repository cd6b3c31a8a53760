package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/entry"
	"github.com/gormcache/gormcache/store"
)

// action is a mutation: check validates a form and says what do will do,
// for the confirmation step; do does it and says what it did.
type action struct {
	title string
	check func(h *handler, ctx context.Context, f url.Values) (question, error)
	do    func(h *handler, ctx context.Context, f url.Values) (outcome, error)
}

// question is what a confirmation asks: What, then the SQL (or key) of
// the first entries it concerns, and how many more there are.
type question struct {
	What  string
	Items []string
	More  int
}

// outcome is what an action did, as the API answers it.
type outcome struct {
	Message string `json:"message"`
	// Removed is the number of entries removed, for delete,
	// delete-matching, purge and flush (where the store can tell).
	Removed *int `json:"removed,omitempty"`
	// Expires is when the entry now expires, for ttl.
	Expires *time.Time `json:"expires,omitempty"`
}

func removed(n int, format string, args ...any) outcome {
	return outcome{Message: fmt.Sprintf(format, args...), Removed: &n}
}

// shownItems is how many entries a confirmation lists.
const shownItems = 20

// Bounds of the TTL an operator may set.
const (
	minTTL = time.Second
	maxTTL = 366 * 24 * time.Hour
)

func (h *handler) actions() map[string]action {
	return map[string]action{
		"delete": {
			title: "Delete entries",
			check: func(h *handler, ctx context.Context, f url.Values) (question, error) {
				found, gone, err := h.existing(ctx, f)
				if err != nil {
					return question{}, err
				}
				q := question{What: fmt.Sprintf("Delete these %d entries%s? The next read of each goes to the database.", len(found), goneNote(gone))}
				if len(found) == 1 {
					q.What = fmt.Sprintf("Delete this entry%s? The next read of it goes to the database.", goneNote(gone))
				}
				for _, e := range found[:min(len(found), shownItems)] {
					q.Items = append(q.Items, e.item())
				}
				q.More = len(found) - len(q.Items)
				return q, nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				found, gone, err := h.existing(ctx, f)
				if err != nil {
					return outcome{}, err
				}
				keys := make([]string, len(found))
				for i, e := range found {
					keys[i] = e.key
				}
				if err := h.plugin.Store().Delete(ctx, keys...); err != nil {
					return outcome{}, err
				}
				if len(found) == 1 && gone == 0 {
					return removed(1, "Deleted the entry %s.", short(shown(keys[0]), 80)), nil
				}
				return removed(len(keys), "Deleted %s%s.", entries(len(keys), false), goneNote(gone)), nil
			},
		},
		"delete-matching": {
			title: "Delete the entries matching a search",
			check: func(h *handler, ctx context.Context, f url.Values) (question, error) {
				q, err := h.matching(f)
				if err != nil {
					return question{}, err
				}
				count := h.count(ctx, q)
				if count == "0 entries" {
					return question{}, fmt.Errorf("%w: no entry matches %s", errNotFound, describeFilters(q))
				}
				if count == "" {
					count = "every entry"
				} else {
					count = "the " + count
				}
				first, err := h.list(ctx, ListQuery{Search: q.Search, Table: q.Table, State: q.State, Sort: "key", Dir: "asc", Limit: shownItems})
				if err != nil {
					return question{}, err
				}
				qu := question{What: fmt.Sprintf("Delete %s that match %s? The next read of each goes to the database. The first of them:",
					count, describeFilters(q))}
				for _, e := range first.Entries {
					qu.Items = append(qu.Items, listed(e.Kind, e.SQL, e.Shown))
				}
				return qu, nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				q, err := h.matching(f)
				if err != nil {
					return outcome{}, err
				}
				n, err := h.deleteMatching(ctx, q)
				if err != nil {
					return outcome{}, err
				}
				return removed(n, "Deleted %s that matched %s.", entries(n, false), describeFilters(q)), nil
			},
		},
		"invalidate": {
			title: "Invalidate",
			check: func(h *handler, _ context.Context, f url.Values) (question, error) {
				t, err := h.invalidateTarget(f)
				if err != nil {
					return question{}, err
				}
				return question{What: fmt.Sprintf("Invalidate every entry that reads the table %q (and what a write to it reaches: tables its foreign keys cascade to, tables its triggers write, its views, its partitions)?", t)}, nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				t, err := h.invalidateTarget(f)
				if err != nil {
					return outcome{}, err
				}
				count := h.count(ctx, ListQuery{Table: t, State: "valid"})
				if count == "" {
					count = "entries"
				}
				if h.cfg.DB == nil {
					// Without the database its foreign keys and views are
					// unknown: the table alone.
					dep := store.Dep{Table: h.plugin.Config().Prefix + t}
					if err := h.plugin.Store().Invalidate(ctx, dep); err != nil {
						return outcome{}, err
					}
					return outcome{Message: fmt.Sprintf("Invalidated the %s that read %q "+
						"(not those of what a write to it reaches, through foreign keys, triggers, views or partitions: that needs Config.DB).", count, t)}, nil
				}
				if err := gormcache.InvalidateTable(h.cfg.DB.WithContext(ctx), t); err != nil {
					return outcome{}, fmt.Errorf("%w: %w", errBadRequest, err)
				}
				return outcome{Message: fmt.Sprintf("Invalidated the %s that read %q, and those of what a write to it reaches: tables its foreign keys cascade to, tables its triggers write, its views, its partitions.", count, t)}, nil
			},
		},
		"invalidate-object": {
			title: "Invalidate object",
			check: func(h *handler, ctx context.Context, f url.Values) (question, error) {
				o, err := h.object(ctx, f)
				if err != nil {
					return question{}, err
				}
				return question{What: fmt.Sprintf("Invalidate every entry that depends on the row of %s where %s, "+
					"by its values in the database and by its primary key?", o.model.Table, o.where)}, nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				o, err := h.object(ctx, f)
				if err != nil {
					return outcome{}, err
				}
				count := h.count(ctx, ListQuery{Table: o.model.Table, State: "valid"})
				if err := gormcache.InvalidateObject(h.cfg.DB.WithContext(ctx), o.value); err != nil {
					return outcome{}, err
				}
				if count != "" {
					count = fmt.Sprintf(" Of the %s that read %s, ", count, o.model.Table)
				} else {
					count = " Of the entries that read " + o.model.Table + ", "
				}
				return outcome{Message: fmt.Sprintf("Invalidated the entries that depend on the row of %s where %s.%s"+
					"those that select rows by a condition went too: the values the row had before are unknown.",
					o.model.Table, o.where, count)}, nil
			},
		},
		"ttl": {
			title: "Change the TTL",
			check: func(h *handler, ctx context.Context, f url.Values) (question, error) {
				e, ttl, err := h.ttlTarget(ctx, f)
				if err != nil {
					return question{}, err
				}
				now := h.cfg.Now()
				return question{What: fmt.Sprintf("Make this entry expire in %v, at %s, instead of %s? Its value and validity stay as they are.",
					ttl, when(now.Add(ttl)), when(e.info.Expires)), Items: []string{e.item()}}, nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				e, ttl, err := h.ttlTarget(ctx, f)
				if err != nil {
					return outcome{}, err
				}
				expires := h.cfg.Now().Add(ttl)
				ok, err := h.plugin.Store().(store.TTLSetter).SetTTL(ctx, e.key, ttl)
				if err != nil {
					return outcome{}, err
				}
				if !ok {
					return outcome{}, fmt.Errorf("%w: no entry %s (it may have expired or been removed)", errNotFound, clip(e.key))
				}
				return outcome{Message: fmt.Sprintf("The entry %s now expires in %v, at %s.", short(shown(e.key), 80), ttl, when(expires)),
					Expires: &expires}, nil
			},
		},
		"purge": {
			title: "Purge expired and invalid entries",
			check: func(h *handler, _ context.Context, _ url.Values) (question, error) {
				if _, ok := h.plugin.Store().(store.Purger); !ok {
					return question{}, fmt.Errorf("%w: purging", errUnsupported)
				}
				return question{What: "Remove every entry that has expired or no longer validates? Valid entries stay."}, nil
			},
			do: func(h *handler, ctx context.Context, _ url.Values) (outcome, error) {
				n, err := h.plugin.Store().(store.Purger).Purge(ctx)
				if err != nil {
					return outcome{}, err
				}
				return removed(n, "Purged %s that had expired or no longer validated.", entries(n, false)), nil
			},
		},
		"flush": {
			title: "Flush the store",
			check: func(h *handler, _ context.Context, _ url.Values) (question, error) {
				if _, ok := h.plugin.Store().(store.Flusher); !ok {
					return question{}, fmt.Errorf("%w: flushing", errUnsupported)
				}
				return question{What: "Remove every entry and stamp of the store, those of other applications sharing it included? " +
					"Every read goes to the database until the cache fills again."}, nil
			},
			do: func(h *handler, ctx context.Context, _ url.Values) (outcome, error) {
				count := h.count(ctx, ListQuery{})
				if err := h.plugin.Store().(store.Flusher).Flush(ctx); err != nil {
					return outcome{}, err
				}
				if count == "" {
					return outcome{Message: "Flushed the store: every entry and stamp is gone."}, nil
				}
				return outcome{Message: fmt.Sprintf("Flushed the store: %s and their stamps are gone.", count)}, nil
			},
		},
	}
}

// found is an entry a form names, as the store has it.
type found struct {
	key   string
	info  store.EntryInfo
	kind  string
	sql   string
	shown string
}

// item is how a confirmation lists the entry: its SQL, else its key.
func (e found) item() string { return listed(e.kind, e.sql, e.shown) }

// listed is how a confirmation lists an entry of kind, SQL and shown key.
func listed(kind, sql, key string) string {
	if kind == entry.KindQuery && sql != "" {
		return short(sql, 200)
	}
	return kind + " " + short(key, 120)
}

// existing returns the entries a delete form names (id or key, repeated,
// at most MaxPageSize) that exist, in order and without duplicates, and the
// number of the others; it is an error when none does.
func (h *handler) existing(ctx context.Context, f url.Values) (out []found, gone int, err error) {
	keys, err := keysOf(f)
	if err != nil {
		return nil, 0, err
	}
	if len(keys) > MaxPageSize {
		return nil, 0, badRequest("%d keys: at most %d at once; delete-matching deletes every entry a search selects", len(keys), MaxPageSize)
	}
	keys = slices.Compact(keys) // the duplicates a form repeats side by side
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		e, ok, err := h.inspect(ctx, k)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			out = append(out, e)
		} else {
			gone++
		}
	}
	switch {
	case len(out) > 0:
		return out, gone, nil
	case len(keys) == 1:
		return nil, 0, fmt.Errorf("%w: no entry %s (it may have expired or been removed)", errNotFound, clip(keys[0]))
	}
	return nil, 0, fmt.Errorf("%w: none of the %d entries exists (they may have expired or been removed)", errNotFound, gone)
}

// inspect returns the entry stored under key, if any.
func (h *handler) inspect(ctx context.Context, key string) (found, bool, error) {
	inspector, ok := h.plugin.Store().(store.Inspector)
	if !ok {
		return found{}, false, fmt.Errorf("%w: inspecting entries", errUnsupported)
	}
	in, value, ok, err := inspector.Inspect(ctx, key)
	if err != nil || !ok {
		return found{}, false, err
	}
	return found{key: key, info: in, kind: entry.KindOf(value), sql: entry.SQL(in.Text, value), shown: shown(key)}, true, nil
}

// goneNote says how many of the entries to delete no longer exist.
func goneNote(gone int) string {
	if gone == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d more had expired or been removed)", gone)
}

// matching returns the filters a delete-matching form gives: q, table and
// state, as the entry browser reads them.
func (h *handler) matching(f url.Values) (ListQuery, error) {
	q := ListQuery{Search: f.Get("q"), Table: f.Get("table"), State: f.Get("state")}
	if err := h.checkFilters(&q); err != nil {
		return q, err
	}
	if _, _, err := h.selection(q); err != nil {
		return q, err
	}
	return q, nil
}

// describeFilters says what the filters of q select.
func describeFilters(q ListQuery) string {
	var parts []string
	if q.Search != "" {
		parts = append(parts, "the search "+clip(q.Search))
	}
	if q.Table != "" {
		parts = append(parts, "the table "+q.Table)
	}
	if q.State != "" {
		parts = append(parts, "the state "+q.State)
	}
	if len(parts) == 0 {
		return "no filter (every entry of the store)"
	}
	return strings.Join(parts, ", ")
}

// deleteBatch is the number of entries delete-matching lists and deletes
// at a time.
const deleteBatch = 5000

// deleteMatching deletes every entry the filters of q select, a batch at a
// time, and returns how many it deleted.
func (h *handler) deleteMatching(ctx context.Context, q ListQuery) (int, error) {
	lister, err := h.lister()
	if err != nil {
		return 0, err
	}
	opts, _, err := h.selection(q)
	if err != nil {
		return 0, err
	}
	opts.Limit = deleteBatch
	n := 0
	for {
		page, err := lister.List(ctx, opts)
		if err != nil {
			return n, err
		}
		keys := make([]string, len(page.Entries))
		for i, in := range page.Entries {
			keys[i] = in.Key
		}
		if len(keys) > 0 {
			if err := h.plugin.Store().Delete(ctx, keys...); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if page.Next == "" {
			return n, nil
		}
		opts.Cursor = page.Next
	}
}

// ttlTarget returns the entry and the TTL a ttl form gives: one id (or
// key), and ttl, a duration ("90s", "2h30m") or a number of seconds.
func (h *handler) ttlTarget(ctx context.Context, f url.Values) (found, time.Duration, error) {
	if _, ok := h.plugin.Store().(store.TTLSetter); !ok {
		return found{}, 0, fmt.Errorf("%w: changing the TTL of an entry", errUnsupported)
	}
	key, err := oneKey(f)
	if err != nil {
		return found{}, 0, err
	}
	s := strings.TrimSpace(f.Get("ttl"))
	ttl, err := time.ParseDuration(s)
	if n, nerr := strconv.ParseUint(s, 10, 32); nerr == nil {
		ttl, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || ttl < minTTL || ttl > maxTTL {
		return found{}, 0, badRequest("ttl %s: want a duration from %v to %v (\"90s\", \"10m\", \"2h30m\"), or a number of seconds", clip(s), minTTL, maxTTL)
	}
	e, ok, err := h.inspect(ctx, key)
	if err != nil {
		return found{}, 0, err
	}
	if !ok {
		return found{}, 0, fmt.Errorf("%w: no entry %s (it may have expired or been removed)", errNotFound, clip(key))
	}
	return e, ttl, nil
}

// invalidateTarget returns the table an invalidate form names, by model
// (its Go type, as Config.Models lists them) or by table.
func (h *handler) invalidateTarget(f url.Values) (string, error) {
	m, t := strings.TrimSpace(f.Get("model")), strings.TrimSpace(f.Get("table"))
	switch {
	case m != "" && t != "":
		return "", badRequest("give a model or a table, not both")
	case m != "":
		mm, err := h.model(m)
		return mm.Table, err
	case t != "":
		return h.knownTable(t)
	}
	return "", badRequest("no model or table")
}

// model returns the model of Config.Models whose Go type is name.
func (h *handler) model(name string) (model, error) {
	for _, m := range h.models {
		if m.Name == name {
			return m, nil
		}
	}
	names := make([]string, len(h.models))
	for i, m := range h.models {
		names[i] = m.Name
	}
	return model{}, badRequest("unknown model %s; known models: %s", clip(name), strings.Join(names, ", "))
}

// object is the row an invalidate-object form names.
type object struct {
	model model
	value any    // a pointer to a new model value with its primary key set
	where string // the primary key, "id = 7"
}

// object returns the row an invalidate-object form names: model (a Go type
// of Config.Models), and its primary key, pk for a key of one column or
// pk.<column> for each column. The values are converted to the fields'
// types by GORM; integers must be decimal. It is an error when no row has
// that key (soft-deleted rows included).
func (h *handler) object(ctx context.Context, f url.Values) (object, error) {
	if h.cfg.DB == nil {
		return object{}, errNoDB
	}
	name := strings.TrimSpace(f.Get("model"))
	if name == "" {
		return object{}, badRequest("no model")
	}
	m, err := h.model(name)
	if err != nil {
		return object{}, err
	}
	fields := m.schema.PrimaryFields
	if len(fields) == 0 {
		return object{}, badRequest("model %s has no primary key", m.Name)
	}
	columns := "pk." + strings.Join(m.Key, ", pk.")
	for k := range f {
		if c, ok := strings.CutPrefix(k, "pk."); ok && !slices.Contains(m.Key, c) {
			return object{}, badRequest("%s: %s has no primary-key column %s; give %s", clip(k), m.Name, clip(c), columns)
		}
	}
	if f.Has("pk") && len(fields) > 1 {
		return object{}, badRequest("pk: %s has a primary key of %d columns; give %s", m.Name, len(fields), columns)
	}
	o := object{model: m, value: reflect.New(m.schema.ModelType).Interface()}
	rv := reflect.ValueOf(o.value)
	var where []string
	for _, pf := range fields {
		param := "pk." + pf.DBName
		if f.Has("pk") {
			if f.Has(param) {
				return object{}, badRequest("give pk or %s, not both", param)
			}
			param = "pk"
		}
		vs := f[param]
		if len(vs) != 1 || vs[0] == "" {
			return object{}, badRequest("%s: want one value of the primary-key column %s of %s", param, pf.DBName, m.Name)
		}
		if err := pf.Set(ctx, rv, vs[0]); err != nil {
			return object{}, badRequest("%s %s: not a value of %s.%s (%s): %s", param, clip(vs[0]), m.schema.Name, pf.Name, pf.FieldType, clip(err.Error()))
		}
		v := reflect.Indirect(pf.ReflectValueOf(ctx, rv))
		if err := fits(v, vs[0]); err != "" {
			return object{}, badRequest("%s %s: %s of %s.%s (%s)", param, clip(vs[0]), err, m.schema.Name, pf.Name, pf.FieldType)
		}
		if v.IsZero() {
			return object{}, badRequest("%s %s: a zero primary key names no row", param, clip(vs[0]))
		}
		where = append(where, fmt.Sprintf("%s = %v", pf.DBName, v))
	}
	o.where = strings.Join(where, " and ")
	row := reflect.New(m.schema.ModelType).Interface()
	err = h.cfg.DB.WithContext(ctx).Clauses(gormcache.NoCache()).Unscoped().Where(o.value).Take(row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return object{}, fmt.Errorf("%w: no row of %s where %s: nothing was invalidated. "+
			"To drop entries that may still hold a row deleted outside GORM, invalidate the table %s", errNotFound, m.Table, o.where, m.Table)
	case err != nil:
		return object{}, err
	}
	return o, nil
}

// fits says what is wrong with s as the integer that GORM set field to
// ("" when nothing is): it must be written in decimal (GORM also reads
// 0x10 as 16), and fit the field (GORM parses 64 bits and truncates them).
func fits(field reflect.Value, s string) string {
	var ok, in bool
	switch field.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		ok, in = err == nil || errors.Is(err, strconv.ErrRange), err == nil && field.Int() == n
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		ok, in = err == nil || errors.Is(err, strconv.ErrRange), err == nil && field.Uint() == n
	default:
		return ""
	}
	switch {
	case !ok:
		return "not a decimal number, the primary key"
	case !in:
		return "out of the range"
	}
	return ""
}

// maxForm bounds the body of a mutation: room for MaxPageSize ids.
const maxForm = 1 << 20

// form parses a mutation's form, refusing it in read-only mode; a body
// over maxForm answers 413.
func (h *handler) form(r *http.Request) (url.Values, error) {
	if h.cfg.ReadOnly {
		return nil, errReadOnly
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("the form is larger than %d bytes: %w", maxForm, err)
		}
		return nil, badRequest("form: %s", clip(err.Error()))
	}
	return r.Form, nil
}

// backOf returns the page a form came from (its field back: a link to
// the entry browser or an entry, relative), "" for any other.
func backOf(f url.Values) string {
	u, err := url.Parse(f.Get("back"))
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "entries" && u.Path != "entry") {
		return ""
	}
	return u.String()
}

func (h *handler) actionPage(name string, a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.form(r)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		back := backOf(f)
		q, err := a.check(h, r.Context(), f)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		if f.Get("confirm") != "yes" {
			var fields []field
			for _, k := range slices.Sorted(maps.Keys(f)) {
				for _, v := range f[k] {
					if k != "confirm" {
						fields = append(fields, field{k, v})
					}
				}
			}
			verb, _, _ := strings.Cut(name, "-")
			if name == "ttl" {
				verb = "change the TTL"
			}
			h.render(w, r, http.StatusOK, "confirm", page{Title: a.title, Data: confirmation{
				Action: name, Verb: verb, Question: q, Fields: fields, Back: back}})
			return
		}
		done, err := a.do(h, r.Context(), f)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		h.render(w, r, http.StatusOK, "result", page{Title: a.title, Message: done.Message, Data: back})
	}
}

func (h *handler) actionAPI(a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.form(r)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		if _, err := a.check(h, r.Context(), f); err != nil {
			h.fail(w, r, 0, err)
			return
		}
		done, err := a.do(h, r.Context(), f)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		writeJSON(w, http.StatusOK, done)
	}
}

type field struct{ Name, Value string }

type confirmation struct {
	Action   string // the route
	Verb     string // its first word, for the button
	Question question
	Fields   []field
	Back     string // where Cancel goes, "" for the entry browser
}
