// Package auth is who may log in and how we know them afterwards: bcrypt
// password hashes, login throttling, and JSON Web Tokens (golang-jwt/jwt/v5)
// verified strictly: one accepted algorithm, issuer, audience, exp, nbf, iat.
package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/courierhq/courier"
	"github.com/golang-jwt/jwt/v5"
)

// Token kinds, carried in the "typ" claim so a refresh token never passes as an access token.
const (
	kindAccess  = "access"
	kindRefresh = "refresh"
)

// KeyConfig says how tokens are signed. With Algorithm HS256 Secret is used;
// with RS256 or EdDSA KeyFile names a PEM private key (PKCS#1/PKCS#8 RSA, PKCS#8 Ed25519).
type KeyConfig struct {
	Algorithm  string
	Secret     []byte
	KeyFile    string
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration
}

// Tokens issues and verifies access and refresh tokens.
type Tokens struct {
	method     jwt.SigningMethod
	signKey    any
	verifyKey  any
	issuer     string
	audience   string
	accessTTL  time.Duration
	refreshTTL time.Duration
	clock      courier.Clock
	parser     *jwt.Parser

	// accepted caches access tokens already verified, by their exact text:
	// a phone sends the same token with every request for its 15 minutes,
	// and parsing and checking it each time was a tenth of courierd's CPU
	// on a GPS batch. The time claims are checked again at every use.
	mu       sync.Mutex
	accepted map[string]acceptedToken
}

// acceptedToken is a verified access token: who it speaks for.
type acceptedToken struct {
	actor  courier.Actor
	claims *Claims // shared: read only
}

// acceptedMax bounds the cache of verified tokens: when it is full the
// expired ones are dropped, and all of them when that is not enough.
const acceptedMax = 50000

// leeway is the clock skew allowed on the time claims.
const leeway = 30 * time.Second

// Claims are what our tokens carry.
type Claims struct {
	jwt.RegisteredClaims
	Role      courier.Role `json:"role"`
	CourierID int64        `json:"cid,omitempty"`
	Kind      string       `json:"typ"`
	// Version is the user's TokenVersion when the token was issued; a token
	// of an older version is refused.
	Version int64 `json:"ver,omitempty"`
	// Family is the refresh-token family (one per login) of a refresh token.
	Family string `json:"fam,omitempty"`
}

// NewTokens builds a token issuer from cfg. It fails when the key is missing or weak.
func NewTokens(cfg KeyConfig, clock courier.Clock) (*Tokens, error) {
	t := &Tokens{issuer: cfg.Issuer, audience: cfg.Audience, accessTTL: cfg.AccessTTL, refreshTTL: cfg.RefreshTTL, clock: clock}
	if t.issuer == "" || t.audience == "" {
		return nil, errors.New("jwt: issuer and audience are required")
	}
	if t.accessTTL <= 0 || t.refreshTTL <= 0 {
		return nil, errors.New("jwt: token lifetimes must be positive")
	}
	switch cfg.Algorithm {
	case "", "HS256":
		if len(cfg.Secret) < 32 {
			return nil, errors.New("jwt: JWT_SECRET must be at least 32 bytes for HS256")
		}
		t.method, t.signKey, t.verifyKey = jwt.SigningMethodHS256, cfg.Secret, cfg.Secret
	case "RS256", "EdDSA":
		key, err := readPrivateKey(cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if cfg.Algorithm != "RS256" {
				return nil, fmt.Errorf("jwt: %s holds an RSA key but the algorithm is %s", cfg.KeyFile, cfg.Algorithm)
			}
			if k.N.BitLen() < 2048 {
				return nil, errors.New("jwt: RSA keys must have at least 2048 bits")
			}
			t.method, t.signKey, t.verifyKey = jwt.SigningMethodRS256, k, k.Public()
		case ed25519.PrivateKey:
			if cfg.Algorithm != "EdDSA" {
				return nil, fmt.Errorf("jwt: %s holds an Ed25519 key but the algorithm is %s", cfg.KeyFile, cfg.Algorithm)
			}
			t.method, t.signKey, t.verifyKey = jwt.SigningMethodEdDSA, k, k.Public()
		default:
			return nil, fmt.Errorf("jwt: unsupported key type %T in %s", key, cfg.KeyFile)
		}
	default:
		return nil, fmt.Errorf("jwt: unsupported algorithm %q (HS256, RS256 or EdDSA)", cfg.Algorithm)
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{t.method.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(clock.Now),
	)
	return t, nil
}

func readPrivateKey(path string) (crypto.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("jwt: a key file is required for RS256 and EdDSA")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwt: read key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("jwt: %s is not a PEM file", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("jwt: %s holds no PKCS#8 or PKCS#1 private key", path)
}

// Pair is a freshly issued access and refresh token.
type Pair struct {
	Access    string
	Refresh   string
	ExpiresIn time.Duration
	// RefreshID and RefreshExpires are the refresh token's jti and expiry.
	RefreshID      string
	RefreshExpires time.Time
}

// Issue signs an access and a refresh token of the refresh-token family for u.
func (t *Tokens) Issue(u *courier.User, family string) (Pair, error) {
	access, _, err := t.sign(u, kindAccess, t.accessTTL, "")
	if err != nil {
		return Pair{}, err
	}
	refresh, c, err := t.sign(u, kindRefresh, t.refreshTTL, family)
	if err != nil {
		return Pair{}, err
	}
	return Pair{Access: access, Refresh: refresh, ExpiresIn: t.accessTTL, RefreshID: c.ID, RefreshExpires: c.ExpiresAt.Time}, nil
}

// randomID returns 128 random bits in hex, for token and family ids.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func (t *Tokens) sign(u *courier.User, kind string, ttl time.Duration, family string) (string, *Claims, error) {
	now := t.clock.Now()
	jti, err := randomID()
	if err != nil {
		return "", nil, err
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Role:      u.Role,
		CourierID: u.CourierID,
		Kind:      kind,
		Version:   u.TokenVersion,
		Family:    family,
	}
	s, err := jwt.NewWithClaims(t.method, c).SignedString(t.signKey)
	if err != nil {
		return "", nil, fmt.Errorf("sign token: %w", err)
	}
	return s, &c, nil
}

// VerifyAccess checks an access token and returns who it speaks for.
// Returns EUNAUTHORIZED for any token that is not exactly right.
func (t *Tokens) VerifyAccess(raw string) (courier.Actor, *Claims, error) {
	now := t.clock.Now()
	t.mu.Lock()
	a, ok := t.accepted[raw]
	t.mu.Unlock()
	if ok && timely(a.claims, now) {
		return a.actor, a.claims, nil
	}
	actor, claims, err := t.verify(raw, kindAccess)
	if err != nil {
		return actor, claims, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	courier.BoundMap(t.accepted, acceptedMax, func(a acceptedToken) bool { return !timely(a.claims, now) })
	if t.accepted == nil {
		t.accepted = map[string]acceptedToken{}
	}
	t.accepted[raw] = acceptedToken{actor: actor, claims: claims}
	return actor, claims, nil
}

// timely checks a verified token's time claims at now as the parser does:
// not expired, not before its start, not issued in the future (each with
// the leeway).
func timely(c *Claims, now time.Time) bool {
	if c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Add(leeway)) {
		return false
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Add(-leeway)) {
		return false
	}
	return c.IssuedAt == nil || !now.Before(c.IssuedAt.Add(-leeway))
}

// VerifyRefresh checks a refresh token. Returns EUNAUTHORIZED.
func (t *Tokens) VerifyRefresh(raw string) (courier.Actor, *Claims, error) {
	return t.verify(raw, kindRefresh)
}

func (t *Tokens) verify(raw, kind string) (courier.Actor, *Claims, error) {
	var c Claims
	_, err := t.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.verifyKey, nil })
	if err != nil {
		msg := "invalid token"
		if errors.Is(err, jwt.ErrTokenExpired) {
			msg = "token expired"
		}
		return courier.Actor{}, nil, courier.Errorf(courier.EUNAUTHORIZED, "%s", msg)
	}
	if c.Kind != kind {
		return courier.Actor{}, nil, courier.Errorf(courier.EUNAUTHORIZED, "not an %s token", kind)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 || !c.Role.Valid() {
		return courier.Actor{}, nil, courier.Errorf(courier.EUNAUTHORIZED, "invalid token")
	}
	return courier.Actor{UserID: id, Role: c.Role, CourierID: c.CourierID}, &c, nil
}
