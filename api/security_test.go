package api_test

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/courierhq/courier/api"
)

// metricsSeries returns the number of request-counter series and the size of
// GET /metrics.
func (e *env) metricsSeries() (series, size int) {
	e.t.Helper()
	r := e.must(e.do("GET", "/metrics", "raw:"+testMetricsToken, nil), 200)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, "courierd_http_requests_total{") {
			series++
		}
	}
	return series, len(r.Body)
}

// TestMetricsCardinality: thousands of requests with random methods (up to
// 4 KB) and random paths do not add label values: /metrics keeps its size.
func TestMetricsCardinality(t *testing.T) {
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + rng.IntN(26))
		}
		return string(b)
	}
	paths := []string{"/api/v1/orders", "/healthz", "/nowhere/", "/api/v1/orders/1"}
	send := func(n int) {
		for range n {
			path := paths[rng.IntN(len(paths))]
			if rng.IntN(2) == 0 {
				path = "/" + strings.ToLower(word(1+rng.IntN(40)))
			}
			req := httptest.NewRequest("GET", path, nil)
			req.Method = word(1 + rng.IntN(4096))
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
				t.Fatalf("%.20s %s: status %d", req.Method, path, rec.Code)
			}
		}
	}
	send(20)
	e.metricsSeries() // counts itself
	series, size := e.metricsSeries()
	send(3000)
	series2, size2 := e.metricsSeries()
	if series2 != series || size2 > size+2000 {
		t.Errorf("after 3,000 more random methods and paths: %d request series and %d bytes of /metrics, was %d and %d", series2, size2, series, size)
	}
	r := e.do("GET", "/metrics", "raw:"+testMetricsToken, nil)
	if !strings.Contains(string(r.Body), `method="other",route="unmatched",status="404"`) {
		t.Errorf("the random requests are not counted as method other, route unmatched: %.2000s", r.Body)
	}
	// The token is asked for; a server without one does not serve /metrics.
	if r := e.do("GET", "/metrics", "", nil); r.Status != 401 || r.errorCode() != "unauthorized" {
		t.Errorf("/metrics without the token: %d %s", r.Status, r.Body)
	}
	if r := e.do("GET", "/metrics", "raw:"+testMetricsToken+"x", nil); r.Status != 401 {
		t.Errorf("/metrics with a wrong token: %d", r.Status)
	}
	bare := api.New(api.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	bare.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("/metrics of a server without a metrics token: %d, want 404", rec.Code)
	}
}
