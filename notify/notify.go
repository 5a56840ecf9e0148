// Package notify tells couriers and customers what happens to their route
// sheets and orders, by push (Firebase Cloud Messaging) and by webhooks to
// the shop and the accounting system.
//
// Everything goes through the transactional outbox: a change writes its
// notification (courier.OutboxMessage) in its own transaction, and a Worker
// drains the outbox later. The worker works in two steps, each safe with
// any number of workers in any number of courierd replicas:
//
//  1. Expand: lease due outbox messages, turn each into its deliveries (one
//     per device token of the recipient and one per subscribed webhook
//     endpoint, the push text rendered from the templates in the company's
//     language) and store them, marking the message sent, in one
//     transaction. A delivery is unique per message and target, so a message
//     expanded twice (a crash between lease and commit) has its deliveries once.
//  2. Deliver: lease due deliveries, send each, and record the result: sent;
//     retry later with exponential backoff (429, 5xx, network errors; the
//     server's Retry-After wins when it asks for longer); dropped (FCM says
//     the token is unregistered or invalid: the device is deleted); or failed
//     after MaxAttempts (kept as a dead letter; a webhook delivery can be replayed).
//
// Pushes and webhooks are sent by separate senders (PushSenders and
// WebhookSenders per worker, each sending one delivery at a time), so slow
// or hanging webhook endpoints never hold pushes back. A worker leases a
// delivery only when a sender is idle to start it at once, so a lease covers
// one send: the send gives up after SendTimeout and the lease lasts at least
// twice that (2 minutes by default), so a live worker never loses a lease it
// is using, and a sender that finds less than SendTimeout left of its lease
// does not send. The order in which deliveries go out is not guaranteed.
//
// Exactly once is not possible with FCM (it has no idempotency key): a
// worker that dies after FCM accepted a message and before it marked the
// delivery sent leaves the delivery leased, and when the lease ends another
// worker sends it again. The window is one UPDATE long. A duplicate that
// slips through does not show twice on the phone: every push of one outbox
// message carries the same Android collapse key and notification tag and
// APNs collapse id, so the second one replaces the first. Webhook receivers
// get the event id (evt_<outbox id>) and the delivery id in headers to drop
// duplicates.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

// Config holds the settings of notifications. Zero fields take the defaults
// named on each.
type Config struct {
	Language  string         // ru (default) or en: the language of the messages
	Location  *time.Location // the company time zone, for times in messages (default UTC)
	Company   string         // shown on the tracking page
	PublicURL string         // base of tracking links, e.g. https://track.example.com (default http://localhost:8080)

	ArrivingMinutes int           // customers hear "arriving" when the ETA is this close (default 60)
	TrackingTTL     time.Duration // a tracking link works this long after the order is finished (default 7 days)
	ETACache        time.Duration // how long a sheet's ETAs serve tracking pages before they are computed again (default 20 s)
	TrackLimit      int           // requests one tracking link may make per TrackWindow (default 30: a page polls twice a minute)
	TrackWindow     time.Duration // the window of TrackLimit (default 1 minute)

	Batch       int           // outbox messages leased at once (default 20)
	Lease       time.Duration // how long a lease lasts (default 2 minutes; at least twice SendTimeout: a shorter one is raised)
	PollEvery   time.Duration // how often an idle worker looks for work (default 1 s)
	ScanEvery   time.Duration // how often the arrival check runs (default 30 s)
	MaxAttempts int           // a delivery gives up after this many tries (default 10)
	BaseBackoff time.Duration // the wait after the first failed try, doubled each time (default 10 s)
	MaxBackoff  time.Duration // the longest wait between tries, unless Retry-After asks for more (default 1 hour)
	SendTimeout time.Duration // of one push or webhook request (default 30 s)
	PushMaxAge  time.Duration // a push not sent this long after its change is dropped as stale (default 6 hours); webhooks never expire
	Retention   time.Duration // finished deliveries and handled outbox messages are deleted after this (default 30 days)
	PurgeEvery  time.Duration // how often a worker purges (default 1 hour)

	// WebhookTargets refuses webhook URLs on loopback, link-local and
	// private addresses, except the networks it allows.
	WebhookTargets TargetPolicy

	PushSenders    int // pushes one worker sends at once (default 8)
	WebhookSenders int // webhook requests one worker makes at once (default 4); they never hold pushes back
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Language == "" {
		c.Language = "ru"
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://localhost:8080"
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.ArrivingMinutes, 60)
	dur(&c.TrackingTTL, 7*24*time.Hour)
	dur(&c.ETACache, 20*time.Second)
	def(&c.TrackLimit, 30)
	dur(&c.TrackWindow, time.Minute)
	def(&c.Batch, 20)
	def(&c.PushSenders, 8)
	def(&c.WebhookSenders, 4)
	dur(&c.Lease, 2*time.Minute)
	dur(&c.PollEvery, time.Second)
	dur(&c.ScanEvery, 30*time.Second)
	def(&c.MaxAttempts, 10)
	dur(&c.BaseBackoff, 10*time.Second)
	dur(&c.MaxBackoff, time.Hour)
	dur(&c.SendTimeout, 30*time.Second)
	dur(&c.PushMaxAge, 6*time.Hour)
	dur(&c.Retention, 30*24*time.Hour)
	dur(&c.PurgeEvery, time.Hour)
	// A delivery is leased when a sender starts it; the send gives up after
	// SendTimeout, so a lease of twice that is never lost by a live worker.
	c.Lease = max(c.Lease, 2*c.SendTimeout)
	return c
}

// Positions tells where couriers are (geo.Tracker).
type Positions interface {
	// Location returns where the courier was last seen. Returns ENOTFOUND.
	Location(ctx context.Context, courierID int64) (*geo.Position, error)
}

// Service registers devices, manages webhook endpoints, answers the
// customer tracking page and queues courier messages. Workers drain the outbox.
type Service struct {
	store     courier.Store
	clock     courier.Clock
	cfg       Config
	log       *slog.Logger
	travel    geo.MatrixSource
	positions Positions
	newToken  func() string
	metrics   *Metrics
	plans     planCache  // sheets' ETAs for tracking pages
	trackHits HitCounter // the tracking limit's counter
}

// New returns the service. Set a travel model and positions for ETAs
// (without them, ETAs come from the route sheet alone).
func New(store courier.Store, clock courier.Clock, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.WithDefaults()
	return &Service{store: store, clock: clock, cfg: cfg, log: log, travel: geo.DefaultTravelModel(cfg.Location), newToken: NewTrackingToken,
		trackHits: &localCounter{clock: clock}}
}

// SetTravel replaces the travel model of ETAs (OSRM, say).
func (s *Service) SetTravel(m geo.MatrixSource) { s.travel = m }

// SetPositions installs the live positions of couriers (the tracker).
func (s *Service) SetPositions(p Positions) { s.positions = p }

// Config returns the settings in effect.
func (s *Service) Config() Config { return s.cfg }

// NewTrackingToken returns a fresh tracking token: 144 random bits, base64url.
func NewTrackingToken() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// TrackingURL returns the customer page of a tracking token.
func (s *Service) TrackingURL(token string) string { return s.cfg.PublicURL + "/t/" + token }

var staff = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}

// MaxDevices is how many devices one courier or one order keeps; registering
// another forgets the ones not refreshed for the longest.
const MaxDevices = 10

// save stores d and keeps its owner within MaxDevices.
func (s *Service) save(ctx context.Context, d *courier.Device) error {
	if err := s.store.SaveDevice(ctx, d); err != nil {
		return err
	}
	list, err := s.store.Devices(ctx, d.App, d.UserID, d.OrderID)
	if err != nil || len(list) <= MaxDevices {
		return err
	}
	slices.SortFunc(list, func(a, b *courier.Device) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	for _, old := range list[:len(list)-MaxDevices] {
		if old.ID == d.ID {
			continue
		}
		if err := s.store.DropDevice(ctx, old.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeviceInput is a push token to register or forget.
type DeviceInput struct {
	Token    string
	Platform string // register only
	App      string
}

func (in DeviceInput) validate(register bool) error {
	if in.Token == "" {
		return courier.FieldError("token", "is required")
	}
	if len(in.Token) > 4096 || strings.ContainsFunc(in.Token, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return courier.FieldError("token", "is not a push registration token")
	}
	if register {
		switch in.Platform {
		case courier.PlatformAndroid, courier.PlatformIOS, courier.PlatformWeb:
		default:
			return courier.FieldError("platform", "must be android, ios or web")
		}
	}
	switch in.App {
	case courier.AppCourier, courier.AppCustomer:
	default:
		return courier.FieldError("app", "must be courier or customer")
	}
	return nil
}

// RegisterCourierDevice registers the calling courier's push token (app
// courier). Registering it again only refreshes it; a token another login
// had on the same phone moves to this one. Returns EINVALID, EFORBIDDEN for
// anyone but a courier.
func (s *Service) RegisterCourierDevice(ctx context.Context, actor courier.Actor, in DeviceInput) (*courier.Device, error) {
	if err := in.validate(true); err != nil {
		return nil, err
	}
	if in.App != courier.AppCourier {
		return nil, courier.FieldError("app", "customers register through their tracking link (tracking_token)")
	}
	if err := actor.Require(courier.RoleCourier); err != nil {
		return nil, err
	}
	d := &courier.Device{App: in.App, Platform: in.Platform, Token: in.Token, UserID: actor.UserID}
	if err := s.save(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// UnregisterCourierDevice forgets the calling courier's token (logout).
// Returns EINVALID, EFORBIDDEN, ENOTFOUND.
func (s *Service) UnregisterCourierDevice(ctx context.Context, actor courier.Actor, in DeviceInput) error {
	if err := in.validate(false); err != nil {
		return err
	}
	if in.App != courier.AppCourier {
		return courier.FieldError("app", "customers unregister through their tracking link (tracking_token)")
	}
	if err := actor.Require(courier.RoleCourier); err != nil {
		return err
	}
	return s.store.DeleteDevice(ctx, in.App, actor.UserID, 0, in.Token)
}

// RegisterCustomerDevice registers a customer's push token for the order of
// a tracking token. Returns EINVALID, ENOTFOUND for an unknown or expired link.
func (s *Service) RegisterCustomerDevice(ctx context.Context, trackingToken string, in DeviceInput) (*courier.Device, error) {
	if err := in.validate(true); err != nil {
		return nil, err
	}
	if in.App != courier.AppCustomer {
		return nil, courier.FieldError("app", "a tracking link registers customer devices only")
	}
	o, err := s.orderOfLink(ctx, trackingToken)
	if err != nil {
		return nil, err
	}
	d := &courier.Device{App: in.App, Platform: in.Platform, Token: in.Token, OrderID: o.ID}
	if err := s.save(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// UnregisterCustomerDevice forgets a customer's token for the order of a
// tracking token. Returns EINVALID, ENOTFOUND.
func (s *Service) UnregisterCustomerDevice(ctx context.Context, trackingToken string, in DeviceInput) error {
	if err := in.validate(false); err != nil {
		return err
	}
	if in.App != courier.AppCustomer {
		return courier.FieldError("app", "a tracking link unregisters customer devices only")
	}
	id, err := s.store.OrderIDByTrackingToken(ctx, trackingToken)
	if err != nil {
		return err
	}
	return s.store.DeleteDevice(ctx, in.App, 0, id, in.Token)
}

// orderOfLink returns the order of a tracking token unless the link expired.
func (s *Service) orderOfLink(ctx context.Context, token string) (*courier.Order, error) {
	notFound := courier.Errorf(courier.ENOTFOUND, "this tracking link does not exist or has expired")
	if len(token) < 16 || len(token) > 64 {
		return nil, notFound
	}
	id, err := s.store.OrderIDByTrackingToken(ctx, token)
	if err != nil {
		return nil, notFound
	}
	o, err := s.store.Order(ctx, id)
	if courier.ErrorCode(err) == courier.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if o.Status.Final() && s.clock.Now().Sub(o.UpdatedAt) > s.cfg.TrackingTTL {
		return nil, notFound
	}
	return o, nil
}

// TrackingLink returns an order's tracking token and page, creating the
// token on first use. Staff only. Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) TrackingLink(ctx context.Context, actor courier.Actor, orderID int64) (token, link string, err error) {
	if err := actor.Require(staff...); err != nil {
		return "", "", err
	}
	token, err = s.store.TrackingToken(ctx, orderID, s.newToken)
	if err != nil {
		return "", "", err
	}
	return token, s.TrackingURL(token), nil
}

// MaxMessageLen is the longest dispatcher message, in characters.
const MaxMessageLen = 1000

// SendCourierMessage queues a dispatcher's message to a courier's phones.
// Staff only. Returns EFORBIDDEN, EINVALID, ENOTFOUND (no such courier).
func (s *Service) SendCourierMessage(ctx context.Context, actor courier.Actor, courierID int64, text string) (string, error) {
	if err := actor.Require(staff...); err != nil {
		return "", err
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", courier.FieldError("text", "is required")
	}
	if utf8.RuneCountInString(text) > MaxMessageLen {
		return "", courier.FieldError("text", "must be at most %d characters", MaxMessageLen)
	}
	if _, err := s.store.Courier(ctx, courierID); err != nil {
		return "", err
	}
	key := "courier_message:" + strings.ToLower(rand.Text())
	payload := mustJSON(map[string]any{"courier_id": courierID, "text": text, "from_user_id": actor.UserID})
	if _, err := s.store.QueueOutbox(ctx, courier.OutboxMessage{Topic: courier.TopicCourierMessage, Key: key, Payload: payload}); err != nil {
		return "", err
	}
	return key, nil
}

// WebhookEvents are the event types a webhook endpoint may subscribe to.
var WebhookEvents = []string{courier.TopicOrderStatus, courier.TopicSheetPublished, courier.TopicCashSettled}

// WebhookInput is an endpoint's fields as sent by an admin; nil fields are
// absent (defaults on create, unchanged on update).
type WebhookInput struct {
	URL         *string
	Secret      *string // generated on create when absent
	Events      *[]string
	Description *string
	Active      *bool
}

func (s *Service) applyWebhook(e *courier.WebhookEndpoint, in WebhookInput) error {
	if in.URL != nil {
		e.URL = strings.TrimSpace(*in.URL)
	}
	if in.Secret != nil {
		e.Secret = *in.Secret
	}
	if in.Events != nil {
		e.Events = slices.Clone(*in.Events)
	}
	if in.Description != nil {
		e.Description = strings.TrimSpace(*in.Description)
	}
	if in.Active != nil {
		e.Active = *in.Active
	}
	u, err := url.Parse(e.URL)
	if e.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(e.URL) > 2000 {
		return courier.FieldError("url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return courier.FieldError("url", "must not carry a user or password")
	}
	if err := s.cfg.WebhookTargets.CheckURL(u.Hostname()); err != nil {
		return err
	}
	if n := len(e.Secret); n < 16 || n > 256 {
		return courier.FieldError("secret", "must have 16 to 256 characters")
	}
	if len(e.Events) == 0 {
		return courier.FieldError("events", "subscribe to at least one of %s", strings.Join(WebhookEvents, ", "))
	}
	slices.Sort(e.Events)
	e.Events = slices.Compact(e.Events)
	for _, ev := range e.Events {
		if !slices.Contains(WebhookEvents, ev) {
			return courier.FieldError("events", "unknown event %q (known: %s)", ev, strings.Join(WebhookEvents, ", "))
		}
	}
	if len(e.Description) > 500 {
		return courier.FieldError("description", "must be at most 500 characters")
	}
	return nil
}

// CreateWebhook registers an endpoint. Admins only. Without a secret one is
// generated (it is shown in the answer). Returns EFORBIDDEN, EINVALID.
func (s *Service) CreateWebhook(ctx context.Context, actor courier.Actor, in WebhookInput) (*courier.WebhookEndpoint, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	e := &courier.WebhookEndpoint{Active: true}
	if in.Secret == nil {
		var b [24]byte
		_, _ = rand.Read(b[:])
		e.Secret = "whsec_" + hex.EncodeToString(b[:])
	}
	if err := s.applyWebhook(e, in); err != nil {
		return nil, err
	}
	if err := s.store.CreateWebhook(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// UpdateWebhook changes an endpoint. Admins only. Returns EFORBIDDEN, EINVALID, ENOTFOUND.
func (s *Service) UpdateWebhook(ctx context.Context, actor courier.Actor, id int64, in WebhookInput) (*courier.WebhookEndpoint, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.UpdateWebhook(ctx, id, func(e *courier.WebhookEndpoint) error { return s.applyWebhook(e, in) })
}

// Webhook returns an endpoint. Admins only. Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) Webhook(ctx context.Context, actor courier.Actor, id int64) (*courier.WebhookEndpoint, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.Webhook(ctx, id)
}

// ListWebhooks returns every endpoint. Admins only. Returns EFORBIDDEN.
func (s *Service) ListWebhooks(ctx context.Context, actor courier.Actor) ([]*courier.WebhookEndpoint, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	return s.store.ListWebhooks(ctx)
}

// DeleteWebhook deletes an endpoint and its delivery log. Admins only. Returns EFORBIDDEN, ENOTFOUND.
func (s *Service) DeleteWebhook(ctx context.Context, actor courier.Actor, id int64) error {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return err
	}
	return s.store.DeleteWebhook(ctx, id)
}

// DeliveryLog is a delivery with its tries.
type DeliveryLog struct {
	*courier.Delivery
	Attempts []courier.DeliveryAttempt
}

// WebhookDeliveries returns an endpoint's delivery log, newest ids after
// f.After, with each delivery's tries. Admins only. Returns EFORBIDDEN, ENOTFOUND, EINVALID.
func (s *Service) WebhookDeliveries(ctx context.Context, actor courier.Actor, id int64, f courier.DeliveryFilter) ([]DeliveryLog, error) {
	if _, err := s.Webhook(ctx, actor, id); err != nil {
		return nil, err
	}
	switch f.Status {
	case "", courier.DeliveryPending, courier.DeliverySent, courier.DeliveryFailed:
	default:
		return nil, courier.FieldError("status", "must be pending, sent or failed")
	}
	if f.Limit > 500 {
		return nil, courier.FieldError("limit", "must be at most 500")
	}
	f.Channel, f.EndpointID = courier.ChannelWebhook, id
	list, err := s.store.Deliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryLog, len(list))
	for i, d := range list {
		at, err := s.store.DeliveryAttempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		out[i] = DeliveryLog{Delivery: d, Attempts: at}
	}
	return out, nil
}

// ReplayWebhookDelivery sends a delivery of the endpoint again (with its
// original body, signed anew): it becomes pending, due now, with a fresh
// budget of tries. Admins only. Returns EFORBIDDEN, ENOTFOUND, ECONFLICT while it is pending.
func (s *Service) ReplayWebhookDelivery(ctx context.Context, actor courier.Actor, id, deliveryID int64) (*courier.Delivery, error) {
	if _, err := s.Webhook(ctx, actor, id); err != nil {
		return nil, err
	}
	d, err := s.store.Delivery(ctx, deliveryID)
	if err != nil {
		return nil, err
	}
	if d.Channel != courier.ChannelWebhook || d.EndpointID != id {
		return nil, courier.Errorf(courier.ENOTFOUND, "delivery %d not found", deliveryID)
	}
	return s.store.ReplayDelivery(ctx, deliveryID, s.clock.Now())
}

// Deliveries lists deliveries of any channel (failed ones are the dead
// letters). Admins only. Returns EFORBIDDEN, EINVALID.
func (s *Service) Deliveries(ctx context.Context, actor courier.Actor, f courier.DeliveryFilter) ([]*courier.Delivery, error) {
	if err := actor.Require(courier.RoleAdmin); err != nil {
		return nil, err
	}
	if f.Limit > 500 {
		return nil, courier.FieldError("limit", "must be at most 500")
	}
	return s.store.Deliveries(ctx, f)
}

func orderNumber(o *courier.Order) string {
	if o.ExternalID != "" {
		return o.ExternalID
	}
	return fmt.Sprintf("#%d", o.ID)
}
