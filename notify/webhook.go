package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
)

// Webhook request headers.
const (
	HeaderSignature = "X-Courier-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
	HeaderEvent     = "X-Courier-Event"     // the event type
	HeaderEventID   = "X-Courier-Event-Id"  // evt_<outbox id>: the same on every retry and replay
	HeaderDelivery  = "X-Courier-Delivery"  // the delivery id (one per endpoint and event)
)

// WebhookPoster sends a webhook delivery to its endpoint.
type WebhookPoster interface {
	// Post sends d's body to e, signed at now, and returns the HTTP status.
	// A failure (a network error or a status outside 2xx) is a *SendError.
	Post(ctx context.Context, e *courier.WebhookEndpoint, d *courier.Delivery, now time.Time) (int, error)
}

// HTTPPoster posts webhooks over HTTP. Redirects are not followed.
type HTTPPoster struct {
	Client *http.Client
}

// NewHTTPPoster returns a poster whose requests time out after timeout and
// connect only to the addresses policy allows, checked after DNS on every
// connection. No proxy from the environment is used (it would connect for us).
func NewHTTPPoster(timeout time.Duration, policy TargetPolicy) *HTTPPoster {
	tr := &http.Transport{Proxy: nil, DialContext: policy.Dialer(timeout).DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: timeout, MaxIdleConns: 32, IdleConnTimeout: 90 * time.Second}
	return &HTTPPoster{Client: &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Sign returns the signature header of body sent at t with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against body and secret, refusing one
// signed more than tolerance away from now (a replayed request). Receivers
// written in Go may use it; others recompute HMAC-SHA256 over "<t>.<body>".
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("malformed signature header")
	}
	t := time.Unix(sec, 0)
	if d := now.Sub(t); d > tolerance || d < -tolerance {
		return errors.New("signature timestamp outside the tolerance")
	}
	_, want, _ := strings.Cut(Sign(secret, t, body), ",v1=")
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errors.New("signature mismatch")
	}
	return nil
}

// Post sends d's body to e's URL with the signature and event headers. The
// error of a failed send says only the status or a short reason: the
// delivery log never keeps what the endpoint answered.
func (p *HTTPPoster) Post(ctx context.Context, e *courier.WebhookEndpoint, d *courier.Delivery, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, &SendError{Permanent: true, Err: fmt.Errorf("webhook request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "courierd-webhooks/1")
	req.Header.Set(HeaderSignature, Sign(e.Secret, now, d.Payload))
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderEventID, "evt_"+strconv.FormatInt(d.OutboxID, 10))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	resp, err := p.Client.Do(req)
	if err != nil {
		return 0, &SendError{Err: errors.New(reason(err)), Permanent: errors.Is(err, errTargetRefused)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // read, so the connection is reused; never kept
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, &SendError{Status: resp.StatusCode, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), now),
		Err: errors.New(cmp.Or(http.StatusText(resp.StatusCode), "unknown status"))}
}

// RetryAfter reads a Retry-After header: seconds or an HTTP date. 0 when absent or unreadable.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
