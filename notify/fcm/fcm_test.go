package fcm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/notify/fcm"
)

// TestCredentials takes the production path: a service account file (its
// token_uri pointing at a fake OAuth server) and FCM at a fake endpoint. The
// push carries the access token the OAuth server issued.
func TestCredentials(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var (
		mu         sync.Mutex
		tokenCalls int
		auth, path string
		body       map[string]any
	)
	oauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokenCalls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"ya29.test-token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer oauth.Close()
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		_ = json.Unmarshal(raw, &body)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"name":"projects/sa-project/messages/42"}`)
	}))
	defer fake.Close()
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "sa-project", "private_key_id": "k1",
		"private_key": string(pemKey), "client_email": "courierd@sa-project.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": oauth.URL + "/token"})
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := fcm.New(t.Context(), fcm.Config{CredentialsFile: file, Endpoint: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if s.ProjectID() != "sa-project" {
		t.Errorf("project %q", s.ProjectID())
	}
	name, err := s.Send(t.Context(), notify.Push{Token: "tok", Platform: courier.PlatformIOS, App: "courier", Title: "T", Body: "B",
		Data: map[string]string{"k": "v"}, CollapseKey: "c1"})
	if err != nil || name != "projects/sa-project/messages/42" {
		t.Fatalf("send: %q, %v", name, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if path != "/v1/projects/sa-project/messages:send" || !strings.HasPrefix(auth, "Bearer ") {
		t.Errorf("request to %s with Authorization %q", path, auth)
	}
	if auth != "Bearer ya29.test-token" || tokenCalls != 1 {
		t.Errorf("%d token calls, Authorization %q: the OAuth token of the service account was not used", tokenCalls, auth)
	}
	if m := body["message"].(map[string]any); m["token"] != "tok" {
		t.Errorf("body %v", body)
	}
}

// TestNoConfig: without credentials or an endpoint there is no FCM sender.
func TestNoConfig(t *testing.T) {
	if _, err := fcm.New(t.Context(), fcm.Config{}); err == nil {
		t.Error("a sender without credentials or endpoint")
	}
	if _, err := fcm.New(t.Context(), fcm.Config{CredentialsFile: filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("a sender with a missing credentials file")
	}
}

// TestWebLink: a web push opens the tracking page, but only an https link
// (FCM refuses others).
func TestWebLink(t *testing.T) {
	p := notify.Push{Token: "t", Platform: courier.PlatformWeb, Link: "https://track.example.com/t/x"}
	if m := fcm.Message(p); m.Webpush == nil || m.Webpush.FCMOptions.Link != p.Link {
		t.Errorf("webpush %+v", m.Webpush)
	}
	p.Link = "http://localhost:8080/t/x"
	if m := fcm.Message(p); m.Webpush != nil {
		t.Errorf("an http link was set: %+v", m.Webpush)
	}
	p.Platform, p.Link = courier.PlatformAndroid, "https://track.example.com/t/x"
	if m := fcm.Message(p); m.Webpush != nil {
		t.Errorf("android got a webpush block")
	}
}
