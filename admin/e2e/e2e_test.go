package e2e_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/admin"
	"github.com/gormcache/gormcache/admin/internal/admintest"
	"github.com/gormcache/gormcache/internal/testdb"
	"github.com/gormcache/gormcache/testdata/blog"
)

// chromiumEnv locates the Chromium the end-to-end test drives; scripts/test.sh
// installs Debian's chromium package and sets it.
const chromiumEnv = "GORMCACHE_CHROMIUM"

// TestBrowser drives the pages in a real browser: log in, list, search, open
// an entry, sort by hits, invalidate the entry's row by primary key and then
// its model and see it turn invalid each time, delete two ticked entries,
// flush and see the list empty. It saves a screenshot of each step.
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
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// Kept after the test, unlike t.TempDir, so that the printed paths can
	// be opened.
	shots, err := os.MkdirTemp("", "gormcache-screenshots-")
	require.NoError(t, err)
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil { // 100 makes a PNG, less a JPEG
				return err
			}
			path := filepath.Join(shots, name+".png")
			t.Logf("screenshot: %s", path)
			return os.WriteFile(path, png, 0o644)
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
			if err := chromedp.Nodes("#entries a.key", &nodes, chromedp.ByQueryAll, chromedp.AtLeast(0)).Do(ctx); err != nil {
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
		chromedp.Click("#entries a.key"),
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
		chromedp.Text("#entries tbody tr:first-child code", &firstSQL),
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
}
