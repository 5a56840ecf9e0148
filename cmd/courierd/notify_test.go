package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPushThroughFCMEndpoint starts courierd with FCM_ENDPOINT at a fake FCM
// (no Google credentials): a courier registers a phone, the dispatcher
// writes to them, and the worker started by Run sends the push.
func TestPushThroughFCMEndpoint(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []map[string]any
		path string
	)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got, path = append(got, m), r.URL.Path
		mu.Unlock()
		_, _ = io.WriteString(w, `{"name":"projects/demo-project/messages/1"}`)
	}))
	defer fake.Close()
	env := map[string]string{"FCM_ENDPOINT": fake.URL, "FIREBASE_PROJECT_ID": "demo-project", "COURIER_PUBLIC_URL": "https://track.example.com",
		"COURIER_METRICS_TOKEN": "notify-test-metrics-token"}
	cfg, err := ParseConfig([]string{"--demo", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--bcrypt-cost", "4"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	addr := make(chan string, 1)
	cfg.OnListen = func(a string) { addr <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out strings.Builder
	go func() { done <- Run(ctx, cfg, &syncWriter{w: &out}) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("courierd did not start")
	}
	token := func(login string) string {
		var tok struct {
			AccessToken string `json:"access_token"`
			CourierID   int64  `json:"courier_id"`
		}
		if call(t, "POST", base+"/api/v1/auth/login", "", `{"login":"`+login+`","password":"demo"}`, &tok) != 200 {
			t.Fatalf("login %s", login)
		}
		return tok.AccessToken
	}
	courierTok, dispTok := token("courier1"), token("dispatcher")
	var me struct {
		CourierID int64 `json:"courier_id"`
	}
	call(t, "GET", base+"/api/v1/me", courierTok, "", &me)
	if st := call(t, "POST", base+"/api/v1/devices", courierTok, `{"token":"phone-1","platform":"android","app":"courier"}`, nil); st != 201 {
		t.Fatalf("register device: %d", st)
	}
	if st := call(t, "POST", base+"/api/v1/couriers/"+itoa(me.CourierID)+"/messages", dispTok, `{"text":"Come back to the depot"}`, nil); st != 202 {
		t.Fatalf("message: %d", st)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var metrics []byte
	for range 100 {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer notify-test-metrics-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(metrics), `courierd_notification_tries_total{channel="push",outcome="sent"} 1`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(string(metrics), `courierd_notification_tries_total{channel="push",outcome="sent"} 1`) {
		t.Errorf("metrics lack the sent push:\n%.3000s", metrics)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || path != "/v1/projects/demo-project/messages:send" {
		t.Fatalf("fake FCM got %d requests (last %s)", len(got), path)
	}
	m := got[0]["message"].(map[string]any)
	if m["token"] != "phone-1" || m["notification"].(map[string]any)["body"] != "Come back to the depot" {
		t.Errorf("push %v", m)
	}
	if !strings.Contains(out.String(), "push: Firebase Cloud Messaging") {
		t.Errorf("the log does not say which push sender runs:\n%.2000s", out.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
