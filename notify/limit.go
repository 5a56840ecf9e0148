package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/courierhq/courier"
)

// HitCounter counts hits per key in fixed windows. throttle.Redis is one,
// shared by every replica; without one a Service counts in its own memory
// (localCounter), so each replica allows TrackLimit on its own.
type HitCounter interface {
	// Hit counts one hit under key and returns the count in the current
	// window, which starts with the first hit and lasts window.
	Hit(ctx context.Context, key string, window time.Duration) (int, error)
}

// SetTrackCounter installs the counter of the tracking limit, one shared by
// every replica (Redis). Call it before serving.
func (s *Service) SetTrackCounter(c HitCounter) { s.trackHits = c }

// limitTrack counts a request for a tracking token and returns ETOOMANY
// (details: retry_after_s) when the token made more than TrackLimit in the
// window. Polling pages ask twice a minute; the limit keeps a scraper or a
// page left open in many tabs from making the server compute ETAs without
// end. A malformed token is not counted (it is refused as not found). When
// the counter fails the request is let through: the limit protects the
// server, it is not a permission.
func (s *Service) limitTrack(ctx context.Context, token string) error {
	if len(token) < 16 || len(token) > 64 {
		return nil
	}
	sum := sha256.Sum256([]byte(token)) // the key does not reveal the token to who reads Redis
	n, err := s.trackHits.Hit(ctx, "track:"+hex.EncodeToString(sum[:12]), s.cfg.TrackWindow)
	if err != nil {
		s.log.Warn("tracking limit: counter failed, request let through", "err", err)
		return nil
	}
	if n <= s.cfg.TrackLimit {
		return nil
	}
	secs := int((s.cfg.TrackWindow + time.Second - 1) / time.Second)
	return &courier.Error{Code: courier.ETOOMANY, Details: map[string]any{"retry_after_s": secs},
		Message: fmt.Sprintf("this tracking link was asked too often; try again in %d seconds", secs)}
}

// localCounter is a HitCounter in this process's memory, on the service's clock.
type localCounter struct {
	clock courier.Clock
	mu    sync.Mutex
	hits  map[string]*hitWindow
}

type hitWindow struct {
	n   int
	end time.Time
}

// localCounterSweep is the number of keys above which a hit first drops the
// ended windows; when they are still that many, all are dropped (the limit
// lets requests through rather than grow without bound).
const localCounterSweep = 10000

// Hit counts one hit under key.
func (c *localCounter) Hit(_ context.Context, key string, window time.Duration) (int, error) {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits == nil {
		c.hits = map[string]*hitWindow{}
	}
	courier.BoundMap(c.hits, localCounterSweep, func(w *hitWindow) bool { return !now.Before(w.end) })
	w := c.hits[key]
	if w == nil || !now.Before(w.end) {
		w = &hitWindow{end: now.Add(window)}
		c.hits[key] = w
	}
	w.n++
	return w.n, nil
}
