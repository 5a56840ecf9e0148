package api

import (
	"net/http"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"github.com/gin-gonic/gin"
)

// webhookIn is an endpoint as sent by an admin; absent fields keep their value.
type webhookIn struct {
	URL         *string   `json:"url"`
	Secret      *string   `json:"secret"`
	Events      *[]string `json:"events"`
	Description *string   `json:"description"`
	Active      *bool     `json:"active"`
}

func (in webhookIn) domain() notify.WebhookInput {
	return notify.WebhookInput{URL: in.URL, Secret: in.Secret, Events: in.Events, Description: in.Description, Active: in.Active}
}

// webhookJSON is an endpoint; the secret is shown only when it is created.
type webhookJSON struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description"`
	Active      bool      `json:"active"`
	Secret      *string   `json:"secret,omitempty"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toWebhook(e *courier.WebhookEndpoint, withSecret bool) webhookJSON {
	w := webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, Active: e.Active, Version: e.Version,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if withSecret {
		w.Secret = &e.Secret
	}
	return w
}

type attemptJSON struct {
	Attempt    int       `json:"attempt"`
	StatusCode *int      `json:"status_code"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error"`
	At         time.Time `json:"at"`
}

type deliveryJSON struct {
	ID            int64          `json:"id"`
	EventID       string         `json:"event_id"`
	Channel       string         `json:"channel"`
	Event         string         `json:"event"`
	EndpointID    *int64         `json:"endpoint_id"`
	DeviceID      *int64         `json:"device_id"`
	Status        string         `json:"status"`
	Attempts      int            `json:"attempts"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	LastStatus    *int           `json:"last_status_code"`
	LastError     string         `json:"last_error"`
	DurationMS    int64          `json:"last_duration_ms"`
	SentAt        *time.Time     `json:"sent_at"`
	CreatedAt     time.Time      `json:"created_at"`
	Log           *[]attemptJSON `json:"log,omitempty"`
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toDelivery(d *courier.Delivery, log []courier.DeliveryAttempt) deliveryJSON {
	out := deliveryJSON{ID: d.ID, EventID: "evt_" + itoa(d.OutboxID), Channel: d.Channel, Event: d.Event, EndpointID: nullID(d.EndpointID),
		DeviceID: nullID(d.DeviceID), Status: d.Status, Attempts: d.Attempts, LastStatus: nullInt(d.LastStatus), LastError: d.LastError,
		DurationMS: d.LastDuration.Milliseconds(), SentAt: nullTime(d.SentAt), CreatedAt: d.CreatedAt}
	if d.Status == courier.DeliveryPending {
		out.NextAttemptAt = nullTime(d.NextAttemptAt)
	}
	if log != nil {
		l := make([]attemptJSON, len(log))
		for i, a := range log {
			l[i] = attemptJSON{Attempt: a.Attempt, StatusCode: nullInt(a.Status), DurationMS: a.Duration.Milliseconds(), Error: a.Error, At: a.At}
		}
		out.Log = &l
	}
	return out
}

func (s *Server) listWebhooks(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	list, err := n.ListWebhooks(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(list))
	for i, e := range list {
		out[i] = toWebhook(e, false)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) createWebhook(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	var in webhookIn
	if err := decode(c, &in); err != nil {
		return err
	}
	e, err := n.CreateWebhook(c.Request.Context(), actorOf(c), in.domain())
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toWebhook(e, true))
	return nil
}

func (s *Server) getWebhook(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	e, err := n.Webhook(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toWebhook(e, false))
	return nil
}

func (s *Server) updateWebhook(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in webhookIn
	if err := decode(c, &in); err != nil {
		return err
	}
	e, err := n.UpdateWebhook(c.Request.Context(), actorOf(c), id, in.domain())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toWebhook(e, false))
	return nil
}

func (s *Server) deleteWebhook(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := n.DeleteWebhook(c.Request.Context(), actorOf(c), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// deliveryFilter reads status, after and limit from the query.
func deliveryFilter(c *gin.Context) (courier.DeliveryFilter, error) {
	f := courier.DeliveryFilter{Status: c.Query("status")}
	var err error
	if f.After, err = queryInt(c, "after"); err != nil {
		return f, err
	}
	limit, err := queryInt(c, "limit")
	f.Limit = int(limit)
	return f, err
}

func (s *Server) webhookDeliveries(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	f, err := deliveryFilter(c)
	if err != nil {
		return err
	}
	list, err := n.WebhookDeliveries(c.Request.Context(), actorOf(c), id, f)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = toDelivery(d.Delivery, d.Attempts)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) replayWebhookDelivery(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	did, err := pathID(c, "delivery_id")
	if err != nil {
		return err
	}
	d, err := n.ReplayWebhookDelivery(c.Request.Context(), actorOf(c), id, did)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, toDelivery(d, nil))
	return nil
}
