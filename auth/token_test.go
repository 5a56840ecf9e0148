package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

type clockAt time.Time

func (c clockAt) Now() time.Time { return time.Time(c) }

func writeKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func config(alg string, secret []byte, file string) KeyConfig {
	return KeyConfig{Algorithm: alg, Secret: secret, KeyFile: file, Issuer: "courierd", Audience: "courier-api",
		AccessTTL: 15 * time.Minute, RefreshTTL: time.Hour}
}

// TestAlgorithms issues and verifies with each algorithm, and checks that a
// token of one configuration never passes another.
func TestAlgorithms(t *testing.T) {
	now := clockAt(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC))
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	configs := map[string]KeyConfig{
		"HS256": config("HS256", []byte(strings.Repeat("s", 32)), ""),
		"RS256": config("RS256", nil, writeKey(t, rsaKey)),
		"EdDSA": config("EdDSA", nil, writeKey(t, edKey)),
	}
	tokens := map[string]*Tokens{}
	for name, cfg := range configs {
		tk, err := NewTokens(cfg, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tokens[name] = tk
	}
	u := &courier.User{ID: 7, Role: courier.RoleCourier, CourierID: 3}
	for name, tk := range tokens {
		pair, err := tk.Issue(u, "family")
		if err != nil {
			t.Fatal(err)
		}
		a, claims, err := tk.VerifyAccess(pair.Access)
		if err != nil || a.UserID != 7 || a.CourierID != 3 || a.Role != courier.RoleCourier || claims.ID == "" {
			t.Errorf("%s: %+v %v", name, a, err)
		}
		for other, ok := range tokens {
			if other == name {
				continue
			}
			if _, _, err := ok.VerifyAccess(pair.Access); courier.ErrorCode(err) != courier.EUNAUTHORIZED {
				t.Errorf("a %s token passed the %s verifier", name, other)
			}
		}
	}
}

func TestKeyConfigErrors(t *testing.T) {
	now := clockAt(time.Now())
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, test := range []struct {
		name string
		cfg  KeyConfig
		want string
	}{
		{"short secret", config("HS256", []byte("short"), ""), "at least 32 bytes"},
		{"no key file", config("RS256", nil, ""), "key file is required"},
		{"missing key file", config("RS256", nil, "/nonexistent.pem"), "read key"},
		{"not PEM", config("RS256", nil, writeRaw(t, "hello")), "not a PEM file"},
		{"EC key", config("RS256", nil, writeKey(t, ecKey)), "unsupported key type"},
		{"small RSA", config("RS256", nil, writeKey(t, smallRSA)), "2048 bits"},
		{"Ed25519 key for RS256", config("RS256", nil, writeKey(t, edKey)), "Ed25519 key but the algorithm is RS256"},
		{"unknown algorithm", config("none", nil, ""), "unsupported algorithm"},
		{"no audience", KeyConfig{Algorithm: "HS256", Secret: []byte(strings.Repeat("s", 32)), Issuer: "x", AccessTTL: time.Minute, RefreshTTL: time.Minute}, "audience"},
	} {
		if _, err := NewTokens(test.cfg, now); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: %v, want %q", test.name, err, test.want)
		}
	}
}

func writeRaw(t *testing.T, s string) string {
	path := filepath.Join(t.TempDir(), "raw")
	os.WriteFile(path, []byte(s), 0o600)
	return path
}

type movableClock struct{ now time.Time }

func (c *movableClock) Now() time.Time { return c.now }

// TestAcceptedTokens: a verified access token is taken from the cache only
// while its time claims hold, exactly as the parser would decide; another
// token text is verified afresh.
func TestAcceptedTokens(t *testing.T) {
	start := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	clock := &movableClock{now: start}
	tk, err := NewTokens(config("HS256", []byte(strings.Repeat("s", 32)), ""), clock)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tk.Issue(&courier.User{ID: 7, Role: courier.RoleCourier, CourierID: 3}, "family")
	if err != nil {
		t.Fatal(err)
	}
	verify := func(raw string, at time.Time) error {
		clock.now = at
		a, _, err := tk.VerifyAccess(raw)
		if err == nil && (a.UserID != 7 || a.CourierID != 3) {
			t.Errorf("at %v: actor %+v", at, a)
		}
		return err
	}
	for _, c := range []struct {
		at time.Time
		ok bool
	}{
		{start, true},
		{start.Add(14 * time.Minute), true},                 // cached now
		{start.Add(-29 * time.Second), true},                // issued "in the future" within the leeway
		{start.Add(-31 * time.Second), false},               // beyond it
		{start.Add(15*time.Minute + 29*time.Second), true},  // expired within the leeway
		{start.Add(15*time.Minute + 30*time.Second), false}, // expired
		{start.Add(time.Minute), true},
	} {
		if err := verify(pair.Access, c.at); (err == nil) != c.ok {
			t.Errorf("at %v: %v, want ok=%v", c.at.Sub(start), err, c.ok)
		}
		if len(tk.accepted) != 1 {
			t.Errorf("at %v: %d tokens cached", c.at.Sub(start), len(tk.accepted))
		}
	}
	if err := verify(pair.Access, start.Add(16*time.Minute)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired cached token: %v", err)
	}
	// A token whose signature was changed is not the cached one.
	tampered := pair.Access[:len(pair.Access)-2] + "AA"
	if tampered == pair.Access {
		tampered = pair.Access[:len(pair.Access)-2] + "BB"
	}
	if err := verify(tampered, start); courier.ErrorCode(err) != courier.EUNAUTHORIZED {
		t.Errorf("a tampered token: %v", err)
	}
	// A refresh token is never an access token, cached or not.
	if err := verify(pair.Refresh, start); courier.ErrorCode(err) != courier.EUNAUTHORIZED {
		t.Errorf("a refresh token as an access token: %v", err)
	}
}
