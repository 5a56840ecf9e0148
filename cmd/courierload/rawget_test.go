package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRawGets: answers with a length and chunked ones, on one kept-alive
// connection a worker, each with the kernel's arrival time; a connection
// the server closes is dialled again.
func TestRawGets(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		switch r.URL.Path {
		case "/short":
			fmt.Fprint(w, `{"items":[]}`)
		case "/long": // over net/http's buffer: chunked
			w.Write([]byte(`{"items":[` + strings.Repeat(`{"courier_id":1},`, 400) + `{"courier_id":2}]}`))
			w.(http.Flusher).Flush()
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	r := newRawGets([]string{srv.URL})
	defer r.close()
	ctx := context.Background()
	stamped := 0
	for i := 0; i < 3 || runtime.GOOS == "linux" && stamped == 0 && i < 200; i++ {
		before := time.Now()
		a, err := r.get(ctx, 0, "/short", "tok")
		if err != nil || a.Status != 200 || string(a.Body) != `{"items":[]}` {
			t.Fatalf("short: %d %q %v", a.Status, a.Body, err)
		}
		// On Linux the kernel says when the answer arrived: after the
		// request was written, before it was read. It stamps segments once
		// its timestamping is switched on, which it does a moment after the
		// first socket asks (a deferred work item): the first answers may
		// come without, and are then timed when read.
		if !a.Arrived.IsZero() {
			stamped++
			if a.Arrived.Before(before) || a.Arrived.After(time.Now()) {
				t.Errorf("arrived %v, not within the request (%v to now)", a.Arrived, before)
			}
		} else if runtime.GOOS == "linux" {
			time.Sleep(5 * time.Millisecond)
		}
		a, err = r.get(ctx, 0, "/long", "tok")
		if n, bad := countNearby(a); err != nil || a.Status != 200 || n != 401 || bad != "" {
			t.Fatalf("long: %d %d %q %v", a.Status, n, bad, err)
		}
	}
	if runtime.GOOS == "linux" && stamped == 0 {
		t.Error("no answer came with the kernel's arrival time")
	}
	if a, err := r.get(ctx, 0, "/short", "other"); err != nil || a.Status != 401 {
		t.Fatalf("a wrong token: %d %v", a.Status, err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for one worker's requests", n)
	}
	if _, err := r.get(ctx, 0, "/close", "tok"); err == nil {
		t.Error("a closing answer: no error")
	}
	if a, err := r.get(ctx, 0, "/short", "tok"); err != nil || a.Status != 200 {
		t.Fatalf("after the server closed: %d %v", a.Status, err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one dialled again)", n)
	}
}
