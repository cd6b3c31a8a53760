// Package e2e holds the admin's end-to-end test, which drives its pages in a
// real Chromium (TestBrowser) on the fixture of admin/internal/admintest.
//
// It is a module of its own, test-only, so that chromedp's dependencies
// stay out of the module graph of gormcache's users: they appear only in
// this module's go.mod. scripts/test.sh tests it with the other modules of
// go.work; GORMCACHE_CHROMIUM names the browser, and the test skips
// without it (fails under CI=true).
package e2e
