package e2e_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/internal/testredis"
	"github.com/gormcache/gormcache/store"
	"github.com/gormcache/gormcache/store/redis"
	"github.com/gormcache/gormcache/testdata/blog"
)

// chromiumEnv locates the Chromium the end-to-end test drives; scripts/test.sh
// installs Debian's chromium package and sets it.
const chromiumEnv = "GORMCACHE_CHROMIUM"

// TestBrowser drives the pages in a real browser: log in, list, search, open
// an entry, sort by hits, invalidate the entry's row by primary key and then
// its model and see it turn invalid each time, delete two ticked entries,
// flush and see the list empty; then, with sixty entries more, page forth
// and back, sort the other way, select and delete a whole page, delete
// every entry a search selects, change an entry's TTL, and see the store
// page of a Redis store. It saves a screenshot of each step at 1400 px and
// at 390 px, and fails when a page is wider than the phone.
func TestBrowser(t *testing.T) {
	chromium := testdb.RequireService(t, chromiumEnv, "Chromium")
	if testing.Short() {
		t.Skip("starts a browser")
	}
	f := admintest.New(t, admin.Config{
		Realm: "gormcache",
		Authorize: func(r *http.Request) bool {
			u, p, ok := r.BasicAuth()
			return ok && u == "admin" && p == "secret"
		},
	})
	base := f.Srv.URL + "/cache/"

	// Chromium's helper processes may still write to its profile for a
	// moment after it exits, which t.TempDir's cleanup would report.
	profile, err := os.MkdirTemp("", "gormcache-chromium-*")
	require.NoError(t, err)
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	// Kept after the test, unlike t.TempDir, so that the printed paths can
	// be opened.
	shots, err := os.MkdirTemp("", "gormcache-screenshots-")
	require.NoError(t, err)
	// shot takes a screenshot of the page at 1400 px wide and at 390 px
	// (a phone, whose page must not scroll sideways), then goes back to
	// 1400 px.
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			for _, width := range []int64{390, 1400} {
				if err := emulation.SetDeviceMetricsOverride(width, 900, 1, width < 500).Do(ctx); err != nil {
					return err
				}
				var scroll, inner int64
				if err := chromedp.Evaluate("document.documentElement.scrollWidth", &scroll).Do(ctx); err != nil {
					return err
				}
				if err := chromedp.Evaluate("window.innerWidth", &inner).Do(ctx); err != nil {
					return err
				}
				if scroll > inner {
					t.Errorf("%s at %d px: the page is %d px wide", name, width, scroll)
				}
				var png []byte
				if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil { // 100 makes a PNG, less a JPEG
					return err
				}
				path := filepath.Join(shots, fmt.Sprintf("%s-%d.png", name, width))
				t.Logf("screenshot: %s", path)
				if err := os.WriteFile(path, png, 0o644); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// confirmed clicks button, takes a screenshot of the confirmation page
	// with its question, confirms, and reads the result message.
	confirmed := func(button, name string, question, message *string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Click(button),
			chromedp.WaitVisible("#confirm"),
			chromedp.Text("#confirm-question", question),
			shot(name),
			chromedp.Click("#confirm"),
			chromedp.Text("#message", message),
		}
	}
	rows := func(n *int) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var nodes []*cdp.Node
			if err := chromedp.Nodes("#entries a.entry", &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)).Do(ctx); err != nil {
				return err
			}
			*n = len(nodes)
			return nil
		})
	}

	// Log in, list the entries, search.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:secret"))
	var all, found int
	var listed string
	require.NoError(t, chromedp.Run(ctx,
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Authorization": auth}),
		chromedp.Navigate(base+"entries"),
		chromedp.WaitVisible("#entries"),
		rows(&all),
		chromedp.Text("#entries", &listed),
		shot("1-entries"),
		chromedp.SetValue("#q", "*published*"),
		chromedp.Click("#search"),
		chromedp.WaitVisible(`#q[value="*published*"]`),
		rows(&found),
		shot("2-search"),
	))
	require.Equal(t, 3, all, listed)
	require.Equal(t, 1, found)

	// Open the entry: valid, with its SQL and rows.
	var state, sql, entryURL string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#entries a.entry"),
		chromedp.WaitVisible("#sql"),
		chromedp.Text("#state", &state),
		chromedp.Text("#sql", &sql),
		chromedp.Location(&entryURL),
		shot("3-entry"),
	))
	require.Equal(t, "valid", state)
	require.Contains(t, sql, "published")

	// Sort by hits: the authors, read twice more, come first. The store
	// page counts those hits for the authors table.
	for range 2 {
		require.NoError(t, f.DB.Clauses(gormcache.Cache()).Find(&[]blog.Author{}).Error)
	}
	var tableStats, firstSQL, firstHits string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base),
		chromedp.Text("#table-stats tbody tr:first-child", &tableStats),
		shot("4-store"),
		chromedp.Navigate(base+"entries"),
		chromedp.SetValue("#sort", "hits"),
		chromedp.Click("#search"),
		chromedp.WaitReady(`#sort option[value="hits"][selected]`),
		chromedp.Text("#entries tbody tr:first-child td.sql", &firstSQL),
		chromedp.Text("#entries tbody tr:first-child td.hits", &firstHits),
		shot("5-hits"),
	))
	require.Equal(t, strings.Fields("authors 66.7% 2 1 1"), strings.Fields(tableStats)[:5], "table, hit ratio, hits, misses, fills")
	require.Contains(t, firstSQL, "authors")
	require.Equal(t, "2", firstHits)

	// Invalidate post 1 by its primary key, confirm, and see the entry of
	// the published posts turn invalid.
	var question, message string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"actions"),
		chromedp.SetValue("#pk-posts-id", "1"),
		confirmed("#invalidate-object-posts", "6-confirm-object", &question, &message),
		chromedp.Navigate(entryURL),
		chromedp.Text("#state", &state),
		shot("7-object-invalid"),
	))
	require.Contains(t, question, "the row of posts where id = 1")
	require.Contains(t, message, "Invalidated the entries that depend on the row of posts where id = 1")
	require.Equal(t, "invalid", state)

	// Read the posts again, which makes the entry valid; invalidate the
	// Post model, confirm, and see the entry turn invalid.
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&[]blog.Post{}).Error)
	var refilled string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(entryURL),
		chromedp.Text("#state", &refilled),
		chromedp.Navigate(base+"actions"),
		chromedp.SetValue("#model", "*blog.Post"),
		confirmed("#invalidate-model", "8-confirm-model", &question, &message),
		chromedp.Navigate(entryURL),
		chromedp.Text("#state", &state),
		shot("9-model-invalid"),
	))
	require.Equal(t, "valid", refilled)
	require.Contains(t, message, "Invalidated")
	require.Equal(t, "invalid", state)

	// Tick two entries, delete them, and one is left.
	var left int
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"entries"),
		chromedp.Click(`#entries tbody tr:nth-child(1) input[type="checkbox"]`),
		chromedp.Click(`#entries tbody tr:nth-child(2) input[type="checkbox"]`),
		shot("10-ticked"),
		confirmed("#delete-selected", "11-confirm-delete", &question, &message),
		chromedp.Navigate(base+"entries"),
		chromedp.WaitVisible("#entries"),
		rows(&left),
		shot("12-deleted"),
	))
	require.Contains(t, question, "Delete these 2 entries?")
	require.Equal(t, "Deleted 2 entries.", message)
	require.Equal(t, 1, left)

	// Flush, and the list is empty.
	var empty string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"actions"),
		chromedp.Click("#flush"),
		chromedp.WaitVisible("#confirm"),
		chromedp.Click("#confirm"),
		chromedp.Text("#message", &message),
		chromedp.Navigate(base+"entries"),
		chromedp.Text("#empty", &empty),
		shot("13-flushed"),
	))
	require.True(t, strings.HasPrefix(message, "Flushed"), message)
	require.Equal(t, "No entries.", empty)

	// Sixty entries more, and the browser at scale: the count and the
	// position of each page, next and previous, the direction of a sort,
	// a whole page selected and deleted, then every entry a search
	// selects.
	for i := range 60 {
		require.NoError(t, f.Plugin.Store().Set(context.Background(), fmt.Sprintf("fn:extra%02d", i), store.Entry{Value: []byte(fmt.Sprintf(`v{"n":%d}`, i))}, time.Hour))
	}
	var summary, summary2, summary3, firstKey string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"entries?q=extra&limit=25"),
		chromedp.Text("#summary", &summary),
		shot("14-page-1"),
		chromedp.Click("#next"),
		chromedp.WaitVisible("#prev"),
		chromedp.Text("#summary", &summary2),
		shot("15-page-2"),
		chromedp.Click("#prev"),
		chromedp.WaitNotPresent("#prev"),
		chromedp.Text("#summary", &summary3),
		chromedp.SetValue("#dir", "desc"),
		chromedp.Click("#search"),
		chromedp.WaitReady(`#dir option[value="desc"][selected]`),
		chromedp.Text("#entries tbody tr:first-child td.key", &firstKey),
		shot("16-descending"),
	))
	require.Contains(t, summary, "Entries 1–25 of 60 selected.")
	require.Contains(t, summary, "The search runs as *extra*, case-sensitive.")
	require.Contains(t, summary2, "Entries 26–50 of 60 selected.")
	require.Contains(t, summary3, "Entries 1–25 of 60 selected.")
	require.Equal(t, "fn:extra59", firstKey)

	var checked []*cdp.Node
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click("#select-all"),
		chromedp.WaitVisible("#clear-selection"),
		chromedp.Nodes(`#entries input[type="checkbox"]:checked`, &checked, chromedp.ByQueryAll),
		shot("17-selected"),
		confirmed("#delete-selected", "18-confirm-delete-page", &question, &message),
		chromedp.Click("#back"),
		chromedp.WaitVisible("#summary"),
		chromedp.Text("#summary", &summary),
	))
	require.Len(t, checked, 25)
	require.Contains(t, question, "Delete these 25 entries?")
	require.Equal(t, "Deleted 25 entries.", message)
	require.Contains(t, summary, "of 35 selected", "back on the filtered list")

	require.NoError(t, chromedp.Run(ctx,
		confirmed("#delete-matching", "19-confirm-delete-matching", &question, &message),
		chromedp.Navigate(base+"entries?q=extra"),
		chromedp.Text("#empty", &empty),
	))
	require.Contains(t, question, `Delete the 35 entries that match the search "extra"?`)
	require.Equal(t, `Deleted 35 entries that matched the search "extra".`, message)
	require.Equal(t, "No entries.", empty)

	// The TTL of an entry, extended and then shortened.
	require.NoError(t, f.DB.Clauses(gormcache.Cache()).Where("published = ?", true).Find(&[]blog.Post{}).Error)
	var expires string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(base+"entry?id="+admin.ID(f.Key)),
		chromedp.WaitVisible("#ttl"),
		shot("20-entry-ttl"),
		chromedp.SetValue("#ttl", "10m"),
		confirmed("#set-ttl", "21-confirm-ttl", &question, &message),
		chromedp.Click("#back"),
		chromedp.Text("#expires", &expires),
	))
	require.Contains(t, question, "Make this entry expire in 10m0s")
	require.Contains(t, message, "now expires in 10m0s")
	require.Regexp(t, `\(in (10m0s|9m5\ds)\)`, expires)

	// The store page of a Redis store: what its server says.
	r := testredis.Client(t)
	rs, err := redis.New(r, redis.Config{Prefix: testredis.Prefix(t), Timeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rs.Flush(context.Background()) })
	g := admintest.NewOn(t, rs, admin.Config{Authorize: admintest.Allow})
	var facts string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(g.Srv.URL+"/cache/"),
		chromedp.Text("#facts", &facts),
		shot("22-redis-store"),
		chromedp.Navigate(g.Srv.URL+"/cache/entries"),
		chromedp.WaitVisible("#entries"),
		shot("23-redis-entries"),
	))
	for _, fact := range []string{"Redis version", "Uptime", "Memory used", "Eviction policy", "Evicted keys",
		"Keyspace hits", "Keyspace misses", "Connected clients", "Entries of this store\t3"} {
		require.Contains(t, facts, fact)
	}
}
