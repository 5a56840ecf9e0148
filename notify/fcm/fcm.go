// Package fcm sends push notifications through Firebase Cloud Messaging
// (the HTTP v1 API) with the Firebase Admin SDK, firebase.google.com/go/v4.
//
// The SDK retries 503 answers and network errors by itself, sleeping in
// the caller for up to two minutes per try. Our outbox already retries
// every delivery durably, with backoff and Retry-After, without holding a
// worker: so the sender's HTTP transport hands the SDK a 503 as a 500
// (which the SDK does not retry), keeping the real status in a header, and
// the outbox is the one place that retries. Network errors are still
// retried by the SDK (a few seconds at most, bounded by the send timeout).
package fcm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/errorutils"
	"firebase.google.com/go/v4/messaging"
	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// Config says how to reach FCM.
type Config struct {
	// CredentialsFile is the service account JSON of the Firebase project
	// (production). Its project_id is the project unless ProjectID is set.
	CredentialsFile string
	// Endpoint overrides the FCM base URL (a proxy or a local fake), e.g.
	// http://127.0.0.1:9099; requests go to {Endpoint}/v1/projects/{id}/messages:send.
	// With an Endpoint and no CredentialsFile no Google credentials are needed.
	Endpoint string
	// ProjectID is the Firebase project id (default: from the credentials,
	// or "courier-local" with an Endpoint alone).
	ProjectID string
	// Timeout bounds one HTTP request (default 30 s).
	Timeout time.Duration
}

// Sender sends pushes with the Firebase messaging client.
type Sender struct {
	client    *messaging.Client
	projectID string
}

var _ notify.Sender = (*Sender)(nil)

// statusHeader keeps the real status of an answer the transport rewrote.
const statusHeader = "X-Courier-Upstream-Status"

// noSDKRetry rewrites 503 answers to 500 so that the SDK does not retry them itself.
type noSDKRetry struct{ next http.RoundTripper }

func (t noSDKRetry) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
		resp.Header.Set(statusHeader, strconv.Itoa(resp.StatusCode))
		resp.StatusCode, resp.Status = http.StatusInternalServerError, "500 Internal Server Error (upstream 503)"
	}
	return resp, err
}

// New returns a sender for cfg. Returns an error when neither credentials
// nor an endpoint are given, or the credentials cannot be read.
func New(ctx context.Context, cfg Config) (*Sender, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	// The outbox sends many pushes at once (PushSenders per replica): keep
	// that many connections open to FCM (or a proxy over HTTP/1.1) instead
	// of net/http's default of two idle ones, which closed and dialled
	// connections for most sends.
	tuned := http.DefaultTransport.(*http.Transport).Clone()
	tuned.MaxIdleConns, tuned.MaxIdleConnsPerHost = 128, 64
	var (
		base http.RoundTripper = tuned
		opts []option.ClientOption
	)
	switch {
	case cfg.CredentialsFile != "":
		raw, err := os.ReadFile(cfg.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("fcm: read credentials: %w", err)
		}
		var sa struct {
			ProjectID string `json:"project_id"`
		}
		if err := json.Unmarshal(raw, &sa); err != nil {
			return nil, fmt.Errorf("fcm: credentials %s are not a service account JSON: %w", cfg.CredentialsFile, err)
		}
		if cfg.ProjectID == "" {
			cfg.ProjectID = sa.ProjectID
		}
		authed, err := htransport.NewTransport(ctx, tuned, option.WithAuthCredentialsJSON(option.ServiceAccount, raw),
			option.WithScopes("https://www.googleapis.com/auth/firebase.messaging", "https://www.googleapis.com/auth/cloud-platform"))
		if err != nil {
			return nil, fmt.Errorf("fcm: credentials: %w", err)
		}
		base = authed
	case cfg.Endpoint != "":
		if cfg.ProjectID == "" {
			cfg.ProjectID = "courier-local"
		}
	default:
		return nil, errors.New("fcm: set FIREBASE_CREDENTIALS or FCM_ENDPOINT")
	}
	if cfg.ProjectID == "" {
		return nil, errors.New("fcm: no Firebase project id (project_id of the credentials)")
	}
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimRight(cfg.Endpoint, "/")+"/v1"))
	}
	opts = append(opts, option.WithHTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: noSDKRetry{next: base}}))
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: cfg.ProjectID}, opts...)
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	client, err := app.Messaging(ctx)
	if err != nil {
		return nil, fmt.Errorf("fcm: %w", err)
	}
	return &Sender{client: client, projectID: cfg.ProjectID}, nil
}

// ProjectID returns the Firebase project the sender sends for.
func (s *Sender) ProjectID() string { return s.projectID }

// Message builds the FCM message of a push: the notification, the data,
// and for Android and APNs the collapse key (so a resent push replaces the
// first), high priority and the app's channel or thread.
func Message(p notify.Push) *messaging.Message {
	m := &messaging.Message{
		Token:        p.Token,
		Notification: &messaging.Notification{Title: p.Title, Body: p.Body},
		Data:         p.Data,
		Android: &messaging.AndroidConfig{
			CollapseKey: p.CollapseKey,
			Priority:    "high",
			Notification: &messaging.AndroidNotification{
				ChannelID: p.App,
				Tag:       p.CollapseKey,
			},
		},
		APNS: &messaging.APNSConfig{
			Headers: map[string]string{"apns-collapse-id": p.CollapseKey, "apns-priority": "10"},
			Payload: &messaging.APNSPayload{Aps: &messaging.Aps{Sound: "default", ThreadID: p.App}},
		},
	}
	if p.Platform == courier.PlatformWeb && strings.HasPrefix(p.Link, "https://") {
		m.Webpush = &messaging.WebpushConfig{FCMOptions: &messaging.WebpushFCMOptions{Link: p.Link}}
	}
	return m
}

// Send sends p and returns FCM's message name. Errors are *notify.SendError:
// TokenGone for an unregistered token, an invalid token (INVALID_ARGUMENT)
// or a token of another sender; retryable for 429, 5xx and network errors,
// with the Retry-After FCM asked for.
func (s *Sender) Send(ctx context.Context, p notify.Push) (string, error) {
	name, err := s.client.Send(ctx, Message(p))
	if err == nil {
		return name, nil
	}
	se := &notify.SendError{Err: err}
	if resp := errorutils.HTTPResponse(err); resp != nil {
		se.Status = resp.StatusCode
		if st, err := strconv.Atoi(resp.Header.Get(statusHeader)); err == nil {
			se.Status = st
		}
		se.RetryAfter = notify.RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	switch {
	case messaging.IsUnregistered(err), messaging.IsInvalidArgument(err), errorutils.IsInvalidArgument(err), messaging.IsSenderIDMismatch(err):
		se.TokenGone = true
	case se.Status == 0, se.Status == http.StatusTooManyRequests, se.Status >= 500, messaging.IsQuotaExceeded(err), messaging.IsUnavailable(err),
		messaging.IsInternal(err):
		// retried by the outbox
	case errorutils.IsUnauthenticated(err), errorutils.IsPermissionDenied(err), messaging.IsThirdPartyAuthError(err):
		// our credentials: retried, in case they are fixed meanwhile
	case se.Status >= 400:
		se.Permanent = true
	}
	return "", se
}
