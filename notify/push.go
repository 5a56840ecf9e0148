package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Push is one push notification to one device token, as rendered when its
// outbox message is expanded and kept in the delivery.
type Push struct {
	Token       string            `json:"token"`
	Platform    string            `json:"platform"`
	App         string            `json:"app"` // courier or customer: the Android channel and the iOS thread
	Title       string            `json:"title"`
	Body        string            `json:"body"`
	Data        map[string]string `json:"data"`
	CollapseKey string            `json:"collapse_key"` // one per outbox message: a resent push replaces the first on the phone
	Link        string            `json:"link,omitempty"`
}

// Sender sends push notifications (notify/fcm over Firebase, or LogSender).
type Sender interface {
	// Send sends p and returns the provider's message id. A failure that
	// says what to do next is a *SendError.
	Send(ctx context.Context, p Push) (string, error)
}

// SendError is a failed push or webhook request, classified.
type SendError struct {
	Status     int           // the HTTP status; 0 for a network error
	RetryAfter time.Duration // what the server's Retry-After asked for
	TokenGone  bool          // push: the token is unregistered or invalid; the device is dropped
	Permanent  bool          // retrying will not help
	Err        error
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err)
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// LogSender only logs pushes: courierd runs it when neither
// FIREBASE_CREDENTIALS nor FCM_ENDPOINT is set.
type LogSender struct {
	Log *slog.Logger
	n   atomic.Int64
}

// Send logs p and returns a made-up message id.
func (s *LogSender) Send(ctx context.Context, p Push) (string, error) {
	tok := p.Token
	if len(tok) > 12 {
		tok = tok[:12] + "…"
	}
	s.Log.Info("push (log only)", slog.String("token", tok), slog.String("app", p.App), slog.String("title", p.Title),
		slog.String("body", p.Body), slog.Any("data", p.Data))
	return fmt.Sprintf("log/%d", s.n.Add(1)), nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// asSendError classifies any error as a *SendError (unknown ones are retried).
func asSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Err: err}
}
