package notify

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/courierhq/courier"
)

// Worker drains the outbox: it expands due messages into deliveries and
// sends due deliveries (see the package comment). Run any number of them,
// in one process or many.
type Worker struct {
	s      *Service
	sender Sender
	hooks  WebhookPoster
	id     string
	log    *slog.Logger
	wake   map[string]chan struct{} // per channel: new deliveries may be due
}

// channels are the delivery channels. Each has its own senders, so that
// slow webhook endpoints never hold pushes back.
var channels = []string{courier.ChannelPush, courier.ChannelWebhook}

// NewWorker returns a worker sending pushes with sender and webhooks with
// hooks (nil: an HTTPPoster with the service's SendTimeout).
func (s *Service) NewWorker(sender Sender, hooks WebhookPoster) *Worker {
	if hooks == nil {
		hooks = NewHTTPPoster(s.cfg.SendTimeout, s.cfg.WebhookTargets)
	}
	id := "w-" + strings.ToLower(rand.Text()[:12])
	w := &Worker{s: s, sender: sender, hooks: hooks, id: id, log: s.log.With(slog.String("worker", id)), wake: map[string]chan struct{}{}}
	for _, ch := range channels {
		w.wake[ch] = make(chan struct{}, 1)
	}
	return w
}

// senders is how many deliveries of channel the worker sends at once.
func (w *Worker) senders(channel string) int {
	if channel == courier.ChannelWebhook {
		return w.s.cfg.WebhookSenders
	}
	return w.s.cfg.PushSenders
}

// Run drains the outbox until ctx ends: one loop expands due messages every
// PollEvery (and checks arrivals every ScanEvery), and each channel has its
// own loop of senders. Errors are logged and retried. Run returns when the
// sends under way have ended.
func (w *Worker) Run(ctx context.Context) {
	poll := time.NewTicker(w.s.cfg.PollEvery)
	defer poll.Stop()
	scan := time.NewTicker(w.s.cfg.ScanEvery)
	defer scan.Stop()
	purge := time.NewTicker(w.s.cfg.PurgeEvery)
	defer purge.Stop()
	w.log.Info("notification worker started")
	var loops sync.WaitGroup
	for _, ch := range channels {
		loops.Go(func() { w.deliverLoop(ctx, ch) })
	}
	for {
		w.expandAll(ctx)
		select {
		case <-ctx.Done():
			loops.Wait()
			w.log.Info("notification worker stopped")
			return
		case <-scan.C:
			if _, err := w.s.ScanArrivals(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("arrival check", slog.Any("err", err))
			}
		case <-purge.C:
			if _, _, err := w.s.Purge(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("notification purge", slog.Any("err", err))
			}
		case <-poll.C:
		}
	}
}

// expandAll expands due outbox messages until none is due, waking the
// senders whenever it made deliveries.
func (w *Worker) expandAll(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := w.ExpandDue(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("notification worker", slog.Any("err", err))
			}
			return
		}
		if n == 0 {
			return
		}
		for _, c := range w.wake {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
}

// deliverLoop sends channel's due deliveries until ctx ends. It leases only
// as many deliveries as it has idle senders, so every delivery it leases
// starts at once and its lease (at least twice SendTimeout) outlasts its
// send: no other worker takes it over while it is being sent. A hanging
// endpoint holds one sender for SendTimeout at most.
func (w *Worker) deliverLoop(ctx context.Context, channel string) {
	n := w.senders(channel)
	idle := make(chan struct{}, n) // a token per idle sender
	for range n {
		idle <- struct{}{}
	}
	var sends sync.WaitGroup
	defer sends.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle:
		}
		k := 1
	more:
		for k < n {
			select {
			case <-idle:
				k++
			default:
				break more
			}
		}
		list, until, err := w.claim(ctx, channel, k)
		if err != nil && ctx.Err() == nil {
			w.log.Error("claim deliveries", slog.String("channel", channel), slog.Any("err", err))
		}
		for _, d := range list {
			sends.Go(func() {
				defer func() { idle <- struct{}{} }()
				if err := w.deliver(ctx, d, until); err != nil && ctx.Err() == nil {
					w.log.Error("record delivery", slog.Int64("delivery_id", d.ID), slog.Any("err", err))
				}
			})
		}
		for range k - len(list) {
			idle <- struct{}{}
		}
		if len(list) < k { // nothing more is due now
			t := time.NewTimer(w.s.cfg.PollEvery)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-w.wake[channel]:
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// Drain expands and delivers until nothing is due now, and returns how many
// deliveries it tried. It is Run's work done once, in the caller's
// goroutine (tests, tools).
func (w *Worker) Drain(ctx context.Context) (int, error) {
	tried := 0
	for ctx.Err() == nil {
		n, err := w.ExpandDue(ctx)
		if err != nil {
			return tried, err
		}
		k, err := w.DeliverDue(ctx)
		tried += k
		if err != nil {
			return tried, err
		}
		if n == 0 && k == 0 {
			return tried, nil
		}
	}
	return tried, ctx.Err()
}

// ExpandDue leases one batch of due outbox messages and expands each.
// It returns how many it leased.
func (w *Worker) ExpandDue(ctx context.Context) (int, error) {
	cfg := w.s.cfg
	now := w.s.clock.Now()
	msgs, err := w.s.store.ClaimOutbox(ctx, w.id, now, cfg.Lease, cfg.Batch)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		deliveries, err := w.s.expand(ctx, m)
		if err == nil {
			err = w.s.store.ExpandOutbox(ctx, m.ID, w.id, deliveries, w.s.clock.Now())
			if err == nil {
				w.s.metrics.message(m.Topic, "expanded")
				w.log.Debug("outbox message expanded", slog.Int64("outbox_id", m.ID), slog.String("topic", m.Topic), slog.Int("deliveries", len(deliveries)))
				continue
			}
		}
		if courier.ErrorCode(err) == courier.ECONFLICT {
			w.log.Warn("outbox lease lost", slog.Int64("outbox_id", m.ID))
			continue
		}
		attempts := m.Attempts + 1
		giveUp := attempts >= cfg.MaxAttempts
		w.s.metrics.message(m.Topic, map[bool]string{false: "retry", true: "failed"}[giveUp])
		w.log.Error("outbox message not expanded", slog.Int64("outbox_id", m.ID), slog.String("topic", m.Topic),
			slog.Int("attempt", attempts), slog.Bool("gave_up", giveUp), slog.Any("err", err))
		if rerr := w.s.store.RetryOutbox(ctx, m.ID, w.id, truncate(err.Error(), 1000), now.Add(w.s.backoff(attempts, 0)), giveUp, w.s.clock.Now()); rerr != nil &&
			courier.ErrorCode(rerr) != courier.ECONFLICT {
			return len(msgs), rerr
		}
	}
	return len(msgs), nil
}

// DeliverDue leases, for every channel at once, as many due deliveries as
// the channel has senders, sends them at once and waits for them. It
// returns how many it tried.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	var (
		all   sync.WaitGroup
		mu    sync.Mutex
		tried int
		first error
	)
	fail := func(err error) {
		mu.Lock()
		first = cmp.Or(first, err)
		mu.Unlock()
	}
	for _, ch := range channels {
		all.Go(func() {
			list, until, err := w.claim(ctx, ch, w.senders(ch))
			if err != nil {
				fail(err)
				return
			}
			var sends sync.WaitGroup
			for _, d := range list {
				sends.Go(func() {
					if err := w.deliver(ctx, d, until); err != nil {
						fail(err)
					}
				})
			}
			sends.Wait()
			mu.Lock()
			tried += len(list)
			mu.Unlock()
		})
	}
	all.Wait()
	return tried, first
}

// claim leases up to limit due deliveries of channel and says when the lease ends.
func (w *Worker) claim(ctx context.Context, channel string, limit int) ([]*courier.Delivery, time.Time, error) {
	now := w.s.clock.Now()
	list, err := w.s.store.ClaimDeliveries(ctx, w.id, channel, now, w.s.cfg.Lease, limit)
	return list, now.Add(w.s.cfg.Lease), err
}

// finishTimeout bounds recording a try's result, which is done even when
// ctx has ended (a worker stopping records the sends it cut short).
const finishTimeout = 10 * time.Second

// deliver tries one delivery leased until until and records the result. A
// delivery whose lease would end before a send could time out is not sent
// (the lease was held too long: it goes again when the lease ends). It
// returns an error only when the result could not be recorded for another
// reason than a lost lease.
func (w *Worker) deliver(ctx context.Context, d *courier.Delivery, until time.Time) error {
	attrs := []any{slog.Int64("delivery_id", d.ID), slog.String("channel", d.Channel)}
	if left := until.Sub(w.s.clock.Now()); left < w.s.cfg.SendTimeout {
		w.log.Warn("delivery not sent: its lease ends before a send could time out", append(attrs, slog.Duration("lease_left", left))...)
		return nil
	}
	r := w.try(ctx, d)
	w.s.metrics.try(d.Channel, r.Status, r.Duration)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	err := w.s.store.FinishDelivery(fctx, d.ID, w.id, r)
	if courier.ErrorCode(err) == courier.ECONFLICT {
		w.log.Warn("delivery lease lost", attrs...)
		return nil
	}
	return err
}

// try sends one delivery and says what came of it. Tokens FCM calls gone
// are deleted here.
func (w *Worker) try(ctx context.Context, d *courier.Delivery) courier.DeliveryResult {
	sctx, cancel := context.WithTimeout(ctx, w.s.cfg.SendTimeout)
	defer cancel()
	start := time.Now()
	var (
		providerID string
		status     int
		err        error
		token      string
	)
	switch d.Channel {
	case courier.ChannelPush:
		var p Push
		if w.s.clock.Now().Sub(d.CreatedAt) > w.s.cfg.PushMaxAge {
			err = &SendError{Permanent: true, Err: errors.New("expired: not sent within the push max age")}
			break
		}
		if err = json.Unmarshal(d.Payload, &p); err != nil {
			err = &SendError{Permanent: true, Err: fmt.Errorf("bad push payload: %w", err)}
			break
		}
		token = p.Token
		providerID, err = w.sender.Send(sctx, p)
		if err == nil {
			status = 200
		}
	case courier.ChannelWebhook:
		var e *courier.WebhookEndpoint
		e, err = w.s.store.Webhook(ctx, d.EndpointID)
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			err = &SendError{Permanent: true, Err: errors.New("the webhook endpoint was deleted")}
			break
		} else if err != nil {
			break
		}
		if !e.Active {
			err = &SendError{Permanent: true, Err: errors.New("the webhook endpoint is inactive")}
			break
		}
		status, err = w.hooks.Post(sctx, e, d, w.s.clock.Now())
	default:
		err = &SendError{Permanent: true, Err: fmt.Errorf("unknown channel %q", d.Channel)}
	}
	now := w.s.clock.Now()
	r := courier.DeliveryResult{Status: courier.DeliverySent, HTTPStatus: status, Duration: time.Since(start), ProviderID: providerID, At: now}
	attrs := []any{slog.Int64("delivery_id", d.ID), slog.Int64("outbox_id", d.OutboxID), slog.String("channel", d.Channel),
		slog.String("event", d.Event), slog.Int("attempt", d.Attempts)}
	if d.Channel == courier.ChannelPush {
		attrs = append(attrs, slog.Int64("device_id", d.DeviceID))
	} else {
		attrs = append(attrs, slog.Int64("endpoint_id", d.EndpointID))
	}
	if err == nil {
		w.log.Info("notification sent", append(attrs, slog.String("provider_id", providerID))...)
		return r
	}
	se := asSendError(err)
	r.HTTPStatus, r.Error = se.Status, truncate(se.Error(), 1000)
	switch {
	case se.TokenGone && d.Channel == courier.ChannelPush:
		r.Status = courier.DeliveryDropped
		if derr := w.s.store.DropDevice(ctx, d.DeviceID); derr != nil {
			w.log.Error("drop device", slog.Int64("device_id", d.DeviceID), slog.Any("err", derr))
		}
		w.log.Info("device token dropped: FCM says it is gone", append(attrs, slog.String("token", short(token)), slog.String("err", r.Error))...)
	case se.Permanent || d.Attempts >= w.s.cfg.MaxAttempts:
		r.Status = courier.DeliveryFailed
		w.log.Error("notification failed for good", append(attrs, slog.String("err", r.Error))...)
	default:
		r.Status = courier.DeliveryPending
		r.RetryAt = now.Add(w.s.backoff(d.Attempts, se.RetryAfter))
		w.log.Warn("notification will be retried", append(attrs, slog.String("err", r.Error), slog.Time("retry_at", r.RetryAt))...)
	}
	return r
}

// maxRetryAfter bounds how long a server's Retry-After may delay a delivery.
const maxRetryAfter = 24 * time.Hour

// backoff is the wait after the attempt-th failed try: BaseBackoff doubled
// per try up to MaxBackoff, or the server's Retry-After when it is longer.
func (s *Service) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := s.cfg.BaseBackoff
	for i := 1; i < attempt && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	if retryAfter > d {
		d = min(retryAfter, maxRetryAfter)
	}
	return d
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func short(tok string) string {
	if len(tok) > 12 {
		return tok[:12] + "…"
	}
	return tok
}

// Purge deletes finished deliveries and handled outbox messages older than
// Retention; failed ones (dead letters) stay visible until then too.
func (s *Service) Purge(ctx context.Context) (deliveries, messages int64, err error) {
	d, m, err := s.store.PurgeNotifications(ctx, s.clock.Now().Add(-s.cfg.Retention))
	if err == nil && d+m > 0 {
		s.log.Info("notifications purged", slog.Int64("deliveries", d), slog.Int64("outbox_messages", m))
	}
	return d, m, err
}
