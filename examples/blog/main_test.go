package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMetricsNeedThePassword checks that /metrics asks for the admin's
// password.
func TestMetricsNeedThePassword(t *testing.T) {
	allow := func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "admin" && p == "pw" }
	h := requireAuth(allow, "demo", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("metrics")) }))
	for _, tt := range []struct {
		user, pass string
		want       int
	}{{"", "", 401}, {"admin", "wrong", 401}, {"admin", "pw", 200}} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if tt.user != "" {
			r.SetBasicAuth(tt.user, tt.pass)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s:%s: got %v, want %v", tt.user, tt.pass, w.Code, tt.want)
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") != `Basic realm="demo", charset="UTF-8"` {
			t.Errorf("challenge: got %q", w.Header().Get("WWW-Authenticate"))
		}
	}
}
