package admin

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/store"
)

// action is a mutation: check validates a form and says what do will do,
// for the confirmation step; do does it and says what it did.
type action struct {
	title string
	check func(h *handler, r *http.Request, f url.Values) (what string, err error)
	do    func(h *handler, ctx context.Context, f url.Values) (outcome, error)
}

// outcome is what an action did, as the API answers it.
type outcome struct {
	Message string `json:"message"`
	// Removed is the number of entries removed, for delete and purge.
	Removed *int `json:"removed,omitempty"`
}

func removed(n int, format string, args ...any) outcome {
	return outcome{Message: fmt.Sprintf(format, args...), Removed: &n}
}

func (h *handler) actions() map[string]action {
	return map[string]action{
		"delete": {
			title: "Delete entries",
			check: func(h *handler, r *http.Request, f url.Values) (string, error) {
				keys, gone, err := h.existing(r.Context(), f)
				if err != nil {
					return "", err
				}
				if len(keys) == 1 && gone == 0 {
					return fmt.Sprintf("Delete the entry %q? The next read of it goes to the database.", keys[0]), nil
				}
				var what strings.Builder
				fmt.Fprintf(&what, "Delete these %d entries%s? The next read of each goes to the database.", len(keys), goneNote(gone))
				const shown = 20
				for _, k := range keys[:min(len(keys), shown)] {
					fmt.Fprintf(&what, "\n%s", k)
				}
				if len(keys) > shown {
					fmt.Fprintf(&what, "\nand %d more", len(keys)-shown)
				}
				return what.String(), nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				keys, gone, err := h.existing(ctx, f)
				if err != nil {
					return outcome{}, err
				}
				if err := h.plugin.Store().Delete(ctx, keys...); err != nil {
					return outcome{}, err
				}
				if len(keys) == 1 && gone == 0 {
					return removed(1, "Deleted the entry %q.", keys[0]), nil
				}
				return removed(len(keys), "Deleted %d entries%s.", len(keys), goneNote(gone)), nil
			},
		},
		"invalidate": {
			title: "Invalidate",
			check: func(h *handler, _ *http.Request, f url.Values) (string, error) {
				t, err := h.invalidateTarget(f)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Invalidate every entry that reads the table %q (and the tables its cascading foreign keys reach)?", t), nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				t, err := h.invalidateTarget(f)
				if err != nil {
					return outcome{}, err
				}
				if h.cfg.DB == nil {
					// Without the database its foreign keys are unknown:
					// the table alone.
					dep := store.Dep{Table: h.plugin.Config().Prefix + t}
					if err := h.plugin.Store().Invalidate(ctx, dep); err != nil {
						return outcome{}, err
					}
					return outcome{Message: fmt.Sprintf("Invalidated the entries that read %q "+
						"(not the tables its foreign keys cascade to: that needs Config.DB).", t)}, nil
				}
				if err := gormcache.InvalidateTable(h.cfg.DB.WithContext(ctx), t); err != nil {
					return outcome{}, fmt.Errorf("%w: %w", errBadRequest, err)
				}
				return outcome{Message: fmt.Sprintf("Invalidated the entries that read %q.", t)}, nil
			},
		},
		"invalidate-object": {
			title: "Invalidate object",
			check: func(h *handler, r *http.Request, f url.Values) (string, error) {
				o, err := h.object(r.Context(), f)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Invalidate every entry that depends on the row of %s where %s, "+
					"by its values in the database and by its primary key?", o.model.Table, o.where), nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (outcome, error) {
				o, err := h.object(ctx, f)
				if err != nil {
					return outcome{}, err
				}
				if err := gormcache.InvalidateObject(h.cfg.DB.WithContext(ctx), o.value); err != nil {
					return outcome{}, err
				}
				return outcome{Message: fmt.Sprintf("Invalidated the entries that depend on the row of %s where %s. "+
					"The values the row had before are unknown, so every entry that reads %s with a condition went too.",
					o.model.Table, o.where, o.model.Table)}, nil
			},
		},
		"purge": {
			title: "Purge expired and invalid entries",
			check: func(h *handler, _ *http.Request, _ url.Values) (string, error) {
				if _, ok := h.plugin.Store().(store.Purger); !ok {
					return "", fmt.Errorf("%w: purging", errUnsupported)
				}
				return "Remove every entry that has expired or no longer validates? Valid entries stay.", nil
			},
			do: func(h *handler, ctx context.Context, _ url.Values) (outcome, error) {
				p, ok := h.plugin.Store().(store.Purger)
				if !ok {
					return outcome{}, fmt.Errorf("%w: purging", errUnsupported)
				}
				n, err := p.Purge(ctx)
				if err != nil {
					return outcome{}, err
				}
				return removed(n, "Purged %d entries.", n), nil
			},
		},
		"flush": {
			title: "Flush the store",
			check: func(h *handler, _ *http.Request, _ url.Values) (string, error) {
				if _, ok := h.plugin.Store().(store.Flusher); !ok {
					return "", fmt.Errorf("%w: flushing", errUnsupported)
				}
				return "Remove every entry and stamp of the store, those of other applications sharing it included? Every read goes to the database until the cache fills again.", nil
			},
			do: func(h *handler, ctx context.Context, _ url.Values) (outcome, error) {
				fl, ok := h.plugin.Store().(store.Flusher)
				if !ok {
					return outcome{}, fmt.Errorf("%w: flushing", errUnsupported)
				}
				if err := fl.Flush(ctx); err != nil {
					return outcome{}, err
				}
				return outcome{Message: "Flushed the store."}, nil
			},
		},
	}
}

// existing returns the keys a delete form names (key, repeated, at most
// MaxPageSize) that have an entry, in order and without duplicates, and the
// number of the others; it is an error when none has.
func (h *handler) existing(ctx context.Context, f url.Values) (found []string, gone int, err error) {
	keys := f["key"]
	switch {
	case len(keys) == 0:
		return nil, 0, badRequest("no key")
	case len(keys) > MaxPageSize:
		return nil, 0, badRequest("%d keys: at most %d at once", len(keys), MaxPageSize)
	case slices.Contains(keys, ""):
		return nil, 0, badRequest("an empty key")
	}
	inspector, ok := h.plugin.Store().(store.Inspector)
	if !ok {
		return nil, 0, fmt.Errorf("%w: inspecting entries", errUnsupported)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		_, _, ok, err := inspector.Inspect(ctx, k)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			found = append(found, k)
		} else {
			gone++
		}
	}
	switch {
	case len(found) > 0:
		return found, gone, nil
	case len(keys) == 1:
		return nil, 0, fmt.Errorf("%w: no entry %q (it may have expired or been removed)", errNotFound, keys[0])
	}
	return nil, 0, fmt.Errorf("%w: none of the %d entries exists (they may have expired or been removed)", errNotFound, gone)
}

// goneNote says how many of the entries to delete no longer exist.
func goneNote(gone int) string {
	if gone == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d more had expired or been removed)", gone)
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
	return model{}, badRequest("unknown model %q; known models: %s", name, strings.Join(names, ", "))
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
// types by GORM.
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
			return object{}, badRequest("%s: %s has no primary-key column %q; give %s", k, m.Name, c, columns)
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
			return object{}, badRequest("%s %q: not a value of %s.%s (%s): %v", param, vs[0], m.schema.Name, pf.Name, pf.FieldType, err)
		}
		v := reflect.Indirect(pf.ReflectValueOf(ctx, rv))
		if !fits(v, vs[0]) {
			return object{}, badRequest("%s %q: out of the range of %s.%s (%s)", param, vs[0], m.schema.Name, pf.Name, pf.FieldType)
		}
		if v.IsZero() {
			return object{}, badRequest("%s %q: a zero primary key names no row", param, vs[0])
		}
		where = append(where, fmt.Sprintf("%s = %v", pf.DBName, v))
	}
	o.where = strings.Join(where, " and ")
	return o, nil
}

// fits reports whether field, an integer that GORM set from s, holds the
// number s says: GORM parses 64 bits and truncates them to the field.
func fits(field reflect.Value, s string) bool {
	switch field.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 0, 64)
		return err == nil && field.Int() == n
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 0, 64)
		return err == nil && field.Uint() == n
	}
	return true
}

// maxForm bounds the body of a mutation: room for MaxPageSize keys.
const maxForm = 1 << 20

// form parses a mutation's form, refusing it in read-only mode.
func (h *handler) form(r *http.Request) (url.Values, error) {
	if h.cfg.ReadOnly {
		return nil, errReadOnly
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("form: %v", err)
	}
	return r.Form, nil
}

func (h *handler) actionPage(name string, a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.form(r)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		what, err := a.check(h, r, f)
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
			h.render(w, r, http.StatusOK, "confirm", page{Title: a.title, Data: confirmation{Action: name, Verb: verb, What: what, Fields: fields}})
			return
		}
		done, err := a.do(h, r.Context(), f)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		h.render(w, r, http.StatusOK, "result", page{Title: a.title, Message: done.Message})
	}
}

func (h *handler) actionAPI(a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, err := h.form(r)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		if _, err := a.check(h, r, f); err != nil {
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
	Action string // the route
	Verb   string // its first word, for the button
	What   string
	Fields []field
}
