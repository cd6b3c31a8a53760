package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gormcache/gormcache/store"
)

// action is a mutation: check validates a form and says what do will do,
// for the confirmation step; do does it and says what it did.
type action struct {
	title string
	check func(h *handler, r *http.Request, f url.Values) (what string, err error)
	do    func(h *handler, ctx context.Context, f url.Values) (done string, err error)
}

func (h *handler) actions() map[string]action {
	return map[string]action{
		"delete": {
			title: "Delete entry",
			check: func(h *handler, r *http.Request, f url.Values) (string, error) {
				key := f.Get("key")
				if key == "" {
					return "", badRequest("no key")
				}
				if _, err := h.detail(r.Context(), key); err != nil {
					return "", err
				}
				return fmt.Sprintf("Delete the entry %q? The next read of it goes to the database.", key), nil
			},
			do: func(h *handler, ctx context.Context, f url.Values) (string, error) {
				if err := h.plugin.Store().Delete(ctx, f.Get("key")); err != nil {
					return "", err
				}
				return fmt.Sprintf("Deleted the entry %q.", f.Get("key")), nil
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
			do: func(h *handler, ctx context.Context, f url.Values) (string, error) {
				t, err := h.invalidateTarget(f)
				if err != nil {
					return "", err
				}
				if err := h.plugin.InvalidateTables(ctx, t); err != nil {
					return "", fmt.Errorf("%w: %w", errBadRequest, err)
				}
				return fmt.Sprintf("Invalidated the entries that read %q.", t), nil
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
			do: func(h *handler, ctx context.Context, _ url.Values) (string, error) {
				p, ok := h.plugin.Store().(store.Purger)
				if !ok {
					return "", fmt.Errorf("%w: purging", errUnsupported)
				}
				n, err := p.Purge(ctx)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Purged %d entries.", n), nil
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
			do: func(h *handler, ctx context.Context, _ url.Values) (string, error) {
				fl, ok := h.plugin.Store().(store.Flusher)
				if !ok {
					return "", fmt.Errorf("%w: flushing", errUnsupported)
				}
				if err := fl.Flush(ctx); err != nil {
					return "", err
				}
				return "Flushed the store.", nil
			},
		},
	}
}

// invalidateTarget returns the table an invalidate form names, by model
// (its Go type, as Config.Models lists them) or by table.
func (h *handler) invalidateTarget(f url.Values) (string, error) {
	m, t := strings.TrimSpace(f.Get("model")), strings.TrimSpace(f.Get("table"))
	switch {
	case m != "" && t != "":
		return "", badRequest("give a model or a table, not both")
	case m != "":
		for _, mm := range h.models {
			if mm.Name == m {
				return mm.Table, nil
			}
		}
		return "", badRequest("unknown model %q", m)
	case t != "":
		return h.knownTable(t)
	}
	return "", badRequest("no model or table")
}

// form parses a mutation's form, refusing it in read-only mode.
func (h *handler) form(r *http.Request) (url.Values, error) {
	if h.cfg.ReadOnly {
		return nil, errReadOnly
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
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
			for k, vs := range f {
				if k != "confirm" && len(vs) > 0 {
					fields = append(fields, field{k, vs[0]})
				}
			}
			h.render(w, r, http.StatusOK, "confirm", page{Title: a.title, Data: confirmation{Action: name, What: what, Fields: fields}})
			return
		}
		done, err := a.do(h, r.Context(), f)
		if err != nil {
			h.fail(w, r, 0, err)
			return
		}
		h.render(w, r, http.StatusOK, "result", page{Title: a.title, Message: done})
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
		writeJSON(w, http.StatusOK, map[string]string{"message": done})
	}
}

type field struct{ Name, Value string }

type confirmation struct {
	Action string
	What   string
	Fields []field
}
