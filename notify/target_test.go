package notify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
)

// TestWebhookTargetsRefused: with the default policy an admin cannot point a
// webhook at loopback, link-local (the metadata service), private or other
// internal addresses, by address or by the name localhost; the allow-list
// (COURIER_WEBHOOK_ALLOWED_NETS) lets chosen networks through.
func TestWebhookTargetsRefused(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "n.db"))
	cfg := e.svc.Config()
	cfg.WebhookTargets = notify.TargetPolicy{}
	strict := notify.New(e.db, e.clock, cfg, quiet())
	admin := courier.Actor{UserID: 1, Role: courier.RoleAdmin}
	create := func(svc *notify.Service, url string) error {
		secret := "whsec-test-0123456789"
		_, err := svc.CreateWebhook(ctxT(t), admin, notify.WebhookInput{URL: &url, Secret: &secret, Events: &[]string{courier.TopicOrderStatus}})
		return err
	}
	for _, test := range []struct {
		url, why string
	}{
		{"http://127.0.0.1:6379/", "loopback"},
		{"http://127.8.9.10/", "loopback"},
		{"http://localhost:8080/hook", "loopback"},
		{"http://[::1]:22/", "loopback"},
		{"http://169.254.169.254/latest/meta-data/", "link-local"},
		{"http://[fe80::1]/", "link-local"},
		{"http://10.0.0.5/", "private"},
		{"https://172.16.3.4/", "private"},
		{"http://192.168.1.1/admin", "private"},
		{"http://[fd00::1]/", "private"},
		{"http://[::ffff:127.0.0.1]/", "loopback"},
		{"http://0.0.0.0:8080/", "unspecified"},
		{"http://100.64.1.1/", "reserved"},
	} {
		err := create(strict, test.url)
		if courier.ErrorCode(err) != courier.EINVALID || !strings.Contains(courier.ErrorMessage(err), test.why) {
			t.Errorf("%s: got %v, want invalid (%s)", test.url, err, test.why)
		}
	}
	if err := create(strict, "https://hooks.example.com/courier"); err != nil {
		t.Errorf("a public name: %v", err)
	}
	if err := create(strict, "http://93.184.215.14/hook"); err != nil {
		t.Errorf("a public address: %v", err)
	}
	cfg.WebhookTargets, _ = notify.ParseTargetPolicy("10.0.0.0/8, 127.0.0.1")
	allowing := notify.New(e.db, e.clock, cfg, quiet())
	for _, url := range []string{"http://10.0.0.5/", "http://127.0.0.1:9000/"} {
		if err := create(allowing, url); err != nil {
			t.Errorf("%s allowed by the configuration: %v", url, err)
		}
	}
	if err := create(allowing, "http://127.0.0.2/"); courier.ErrorCode(err) != courier.EINVALID {
		t.Errorf("127.0.0.2 is outside the allowed 127.0.0.1: %v", err)
	}
	if _, err := notify.ParseTargetPolicy("10.0.0.0/8,not-a-net"); courier.ErrorCode(err) != courier.EINVALID {
		t.Errorf("a bad allow-list: %v", err)
	}
}

// TestWebhookConnectCheck: the address is checked again when the connection
// is made, after DNS (localhost resolves to loopback here): the receiver is
// never reached, and the failure is permanent with a short reason. An
// endpoint's answer never reaches the delivery log.
func TestWebhookConnectCheck(t *testing.T) {
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "root:x:0:0:root:/root:/bin/bash secret internal page", http.StatusForbidden)
	}))
	defer recv.Close()
	port := recv.URL[strings.LastIndex(recv.URL, ":"):]
	d := &courier.Delivery{ID: 1, OutboxID: 1, Event: courier.TopicOrderStatus, Payload: []byte(`{}`)}
	now := time.Now()

	strict := notify.NewHTTPPoster(5*time.Second, notify.TargetPolicy{})
	for _, url := range []string{recv.URL, "http://localhost" + port + "/hook"} {
		st, err := strict.Post(ctxT(t), &courier.WebhookEndpoint{URL: url, Secret: "s"}, d, now)
		var se *notify.SendError
		if st != 0 || err == nil || !errors.As(err, &se) || !se.Permanent || !strings.HasPrefix(err.Error(), "refused: the target address is not allowed") {
			t.Errorf("%s: status %d, err %v", url, st, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the refused receiver got %d requests", n)
	}

	allowed := notify.NewHTTPPoster(5*time.Second, notify.TargetPolicy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	st, err := allowed.Post(ctxT(t), &courier.WebhookEndpoint{URL: "http://localhost" + port + "/hook", Secret: "s"}, d, now)
	if st != http.StatusForbidden || err == nil || err.Error() != "HTTP 403: Forbidden" {
		t.Errorf("allowed loopback receiver: status %d, err %v", st, err)
	}
	if hits.Load() != 1 {
		t.Errorf("the allowed receiver got %d requests", hits.Load())
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := allowed.Post(ctxT(t), &courier.WebhookEndpoint{URL: closed.URL, Secret: "s"}, d, now); err == nil || err.Error() != "connection failed" {
		t.Errorf("a closed port: %v (want only \"connection failed\", no address)", err)
	}
}
