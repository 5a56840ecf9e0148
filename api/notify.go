package api

import (
	"net/http"

	"github.com/courierhq/courier"
	"github.com/gin-gonic/gin"
)

type courierMessageIn struct {
	Text string `json:"text"`
}

// sendCourierMessage queues a dispatcher's message to the courier's phones.
func (s *Server) sendCourierMessage(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in courierMessageIn
	if err := decode(c, &in); err != nil {
		return err
	}
	key, err := n.SendCourierMessage(c.Request.Context(), actorOf(c), id, in.Text)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "queued", "message_key": key})
	return nil
}

// orderTrackingLink answers the customer tracking link of an order (made on first use).
func (s *Server) orderTrackingLink(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	token, url, err := n.TrackingLink(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"order_id": id, "token": token, "url": url})
	return nil
}

// listNotifications lists deliveries of every channel; ?status=failed are the dead letters.
func (s *Server) listNotifications(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	f, err := deliveryFilter(c)
	if err != nil {
		return err
	}
	switch f.Status {
	case "", courier.DeliveryPending, courier.DeliverySent, courier.DeliveryFailed, courier.DeliveryDropped:
	default:
		return courier.FieldError("status", "must be pending, sent, failed or dropped")
	}
	f.Channel = c.Query("channel")
	switch f.Channel {
	case "", courier.ChannelPush, courier.ChannelWebhook:
	default:
		return courier.FieldError("channel", "must be push or webhook")
	}
	list, err := n.Deliveries(c.Request.Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = toDelivery(d, nil)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}
