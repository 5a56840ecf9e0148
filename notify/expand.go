package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/courierhq/courier"
)

// payload is an outbox message's JSON, read leniently.
type payload map[string]any

func parsePayload(b []byte) (payload, error) {
	p := payload{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("outbox payload: %w", err)
	}
	return p, nil
}

func (p payload) str(k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (p payload) int(k string) int64 {
	n, _ := strconv.ParseInt(p.str(k), 10, 64)
	return n
}

func (p payload) time(k string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, p.str(k))
	return t
}

// collapseKey is the same for every push of one outbox message (at most 64
// bytes, as APNs wants): a push sent twice replaces itself on the phone.
func collapseKey(m *courier.QueuedMessage) string {
	sum := sha256.Sum256([]byte(m.Key))
	return "n" + hex.EncodeToString(sum[:12])
}

// note is a rendered push for one recipient before fan-out to its devices.
type note struct {
	title, body string
	data        map[string]string
	link        string
}

// expand turns an outbox message into its deliveries: pushes to the
// devices of the courier or the customer it concerns, and webhook
// deliveries to the endpoints subscribed to its event.
func (s *Service) expand(ctx context.Context, m *courier.QueuedMessage) ([]*courier.Delivery, error) {
	p, err := parsePayload(m.Payload)
	if err != nil {
		return nil, err
	}
	var out []*courier.Delivery
	stale := s.clock.Now().Sub(m.CreatedAt) > s.cfg.PushMaxAge
	pushTo := func(app string, userID, orderID int64, n *note) error {
		if n == nil {
			return nil
		}
		if stale {
			s.log.Warn("push dropped: the change is too old to announce", "outbox_id", m.ID, "topic", m.Topic, "created_at", m.CreatedAt)
			return nil
		}
		devices, err := s.store.Devices(ctx, app, userID, orderID)
		if err != nil {
			return err
		}
		for _, d := range devices {
			data := map[string]string{}
			for k, v := range n.data {
				data[k] = v
			}
			push := Push{Token: d.Token, Platform: d.Platform, App: app, Title: n.title, Body: n.body, Data: data,
				CollapseKey: collapseKey(m)}
			if d.Platform == courier.PlatformWeb {
				push.Link = n.link
			}
			out = append(out, &courier.Delivery{Channel: courier.ChannelPush, DeviceID: d.ID, Event: m.Topic, Payload: mustJSON(push)})
		}
		return nil
	}
	tx := s.text()
	switch m.Topic {
	case courier.TopicSheetPublished, courier.TopicSheetChanged, courier.TopicCourierMessage:
		c, err := s.store.Courier(ctx, p.int("courier_id"))
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			break // nobody to tell
		} else if err != nil {
			return nil, err
		}
		n, err := s.courierNote(ctx, m.Topic, p, tx)
		if err != nil {
			return nil, err
		}
		if c.UserID != 0 {
			if err := pushTo(courier.AppCourier, c.UserID, 0, n); err != nil {
				return nil, err
			}
		}
	case courier.TopicOrderOutForDelivery, courier.TopicOrderStatus, courier.TopicCustomerArriving:
		o, err := s.store.Order(ctx, p.int("order_id"))
		if courier.ErrorCode(err) == courier.ENOTFOUND {
			break
		} else if err != nil {
			return nil, err
		}
		n, err := s.customerNote(ctx, m.Topic, p, o, tx)
		if err != nil {
			return nil, err
		}
		if err := pushTo(courier.AppCustomer, 0, o.ID, n); err != nil {
			return nil, err
		}
	}
	hooks, err := s.webhookDeliveries(ctx, m, p)
	if err != nil {
		return nil, err
	}
	return append(out, hooks...), nil
}

// courierNote renders a message to a courier.
func (s *Service) courierNote(ctx context.Context, topic string, p payload, tx texts) (*note, error) {
	data := map[string]string{"type": topic}
	for _, k := range []string{"sheet_id", "sheet_number", "order_id", "date"} {
		if v := p.str(k); v != "" {
			data[k] = v
		}
	}
	switch topic {
	case courier.TopicSheetPublished:
		return &note{title: fmt.Sprintf(tx.sheetPublishedTitle, p.str("sheet_number")),
			body: fmt.Sprintf(tx.sheetPublishedBody, p.int("stops"), s.date(p.str("date"), tx)), data: data}, nil
	case courier.TopicSheetChanged:
		kind := p.str("type")
		data["change"] = kind
		n := &note{title: fmt.Sprintf(tx.sheetChangedTitle, p.str("sheet_number")), body: tx.sheetChangedBody, data: data}
		if kind == "stop_added" || kind == "stop_removed" {
			o, err := s.store.Order(ctx, p.int("order_id"))
			if err != nil && courier.ErrorCode(err) != courier.ENOTFOUND {
				return nil, err
			}
			number, address := "#"+p.str("order_id"), ""
			if o != nil {
				number, address = orderNumber(o), o.Address
			}
			if kind == "stop_added" {
				n.body = fmt.Sprintf(tx.stopAddedBody, number, address)
			} else {
				n.body = fmt.Sprintf(tx.stopRemovedBody, number)
			}
		}
		return n, nil
	default: // courier_message
		return &note{title: tx.messageTitle, body: p.str("text"), data: data}, nil
	}
}

func (s *Service) date(d string, tx texts) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format(tx.dateLayout)
}

// customerNote renders a message to the customer of o, or nil when the
// change is not one customers hear about.
func (s *Service) customerNote(ctx context.Context, topic string, p payload, o *courier.Order, tx texts) (*note, error) {
	to := courier.OrderStatus(p.str("to"))
	switch {
	case topic == courier.TopicCustomerArriving:
		if o.Status != courier.StatusOutForDelivery {
			return nil, nil // delivered (or failed) before the message went out
		}
	case topic == courier.TopicOrderOutForDelivery:
	case topic == courier.TopicOrderStatus && (to == courier.StatusOutForDelivery || to == courier.StatusDelivered || to == courier.StatusFailedAttempt):
	default:
		return nil, nil
	}
	token, err := s.store.TrackingToken(ctx, o.ID, s.newToken)
	if err != nil {
		return nil, err
	}
	link := s.TrackingURL(token)
	number := orderNumber(o)
	data := map[string]string{"type": topic, "order_id": strconv.FormatInt(o.ID, 10), "order_number": number, "tracking_url": link}
	n := &note{data: data, link: link}
	switch {
	case topic == courier.TopicCustomerArriving:
		eta := p.time("eta")
		minutes := int(eta.Sub(s.clock.Now()).Round(time.Minute) / time.Minute)
		minutes = max(minutes, 1)
		data["status"], data["eta"] = "arriving", eta.UTC().Format(time.RFC3339)
		n.title = fmt.Sprintf(tx.arrivingTitle, number)
		n.body = fmt.Sprintf(tx.arrivingBody, minutes, s.clockTime(eta), link)
	case topic == courier.TopicOrderOutForDelivery || to == courier.StatusOutForDelivery:
		from, until := p.time("eta_from"), p.time("eta_to")
		if o.TimeWindow != nil && (from.IsZero() || until.IsZero()) {
			from, until = o.TimeWindow.From, o.TimeWindow.To
		}
		data["status"] = string(courier.StatusOutForDelivery)
		n.title = fmt.Sprintf(tx.outTitle, number)
		n.body = fmt.Sprintf(tx.outBody, s.window(from, until), link)
	case to == courier.StatusDelivered:
		data["status"] = string(to)
		n.title, n.body = fmt.Sprintf(tx.deliveredTitle, number), tx.deliveredBody
	case to == courier.StatusFailedAttempt:
		reason := p.str("reason")
		data["status"], data["reason"] = string(to), reason
		words := tx.reasons[reason]
		if words == "" {
			words = reason
		}
		if words == "" {
			words = tx.noReason
		}
		n.title = fmt.Sprintf(tx.failedTitle, number)
		n.body = fmt.Sprintf(tx.failedBody, words, link)
		if wished := p.str("wished_date"); wished != "" {
			data["wished_date"] = wished
			if d, err := time.Parse(time.DateOnly, wished); err == nil {
				n.body = fmt.Sprintf(tx.rescheduledBody, words, d.Format(tx.dateLayout), link)
			}
		}
	}
	return n, nil
}

// webhookEvent is the webhook event type of an outbox topic, or "".
func webhookEvent(topic string) string {
	switch topic {
	case courier.TopicOrderStatus, courier.TopicOrderOutForDelivery:
		return courier.TopicOrderStatus
	case courier.TopicSheetPublished, courier.TopicCashSettled:
		return topic
	}
	return ""
}

// WebhookBody is the JSON a webhook endpoint receives.
type WebhookBody struct {
	ID        string         `json:"id"` // evt_<outbox id>: the same for every endpoint and every retry
	Type      string         `json:"type"`
	CreatedAt time.Time      `json:"created_at"`
	Data      map[string]any `json:"data"`
}

// webhookDeliveries returns one delivery per active endpoint subscribed to
// the message's event.
func (s *Service) webhookDeliveries(ctx context.Context, m *courier.QueuedMessage, p payload) ([]*courier.Delivery, error) {
	event := webhookEvent(m.Topic)
	if event == "" {
		return nil, nil
	}
	endpoints, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return nil, err
	}
	var subscribed []*courier.WebhookEndpoint
	for _, e := range endpoints {
		if e.Active && slices.Contains(e.Events, event) {
			subscribed = append(subscribed, e)
		}
	}
	if len(subscribed) == 0 {
		return nil, nil
	}
	data := map[string]any{}
	for k, v := range p {
		data[k] = v
	}
	if event == courier.TopicOrderStatus {
		o, err := s.store.Order(ctx, p.int("order_id"))
		if err != nil {
			return nil, err
		}
		if m.Topic == courier.TopicOrderOutForDelivery {
			data = map[string]any{"order_id": o.ID, "from": string(courier.StatusPlanned), "to": string(courier.StatusOutForDelivery),
				"sheet_id": p.int("sheet_id"), "courier_id": o.CourierID, "reason": "route sheet started", "comment": "", "at": m.CreatedAt.UTC()}
		}
		delete(data, "type")
		data["external_id"] = o.ExternalID
		data["status"] = string(o.Status)
		data["payment_status"] = string(o.PaymentStatus)
		token, err := s.store.TrackingToken(ctx, o.ID, s.newToken)
		if err != nil {
			return nil, err
		}
		data["tracking_url"] = s.TrackingURL(token)
	}
	body := mustJSON(WebhookBody{ID: "evt_" + strconv.FormatInt(m.ID, 10), Type: event, CreatedAt: m.CreatedAt.UTC(), Data: data})
	out := make([]*courier.Delivery, len(subscribed))
	for i, e := range subscribed {
		out[i] = &courier.Delivery{Channel: courier.ChannelWebhook, EndpointID: e.ID, Event: event, Payload: body}
	}
	return out, nil
}
