package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/notify"
	"github.com/gin-gonic/gin"
)

// deviceIn registers or forgets a push token. Couriers send it with their
// bearer token (app courier); customers with their order's tracking token
// (app customer).
type deviceIn struct {
	Token         string `json:"token"`
	Platform      string `json:"platform"`
	App           string `json:"app"`
	TrackingToken string `json:"tracking_token"`
}

type deviceJSON struct {
	ID        int64     `json:"id"`
	App       string    `json:"app"`
	Platform  string    `json:"platform"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toDevice(d *courier.Device) deviceJSON {
	return deviceJSON{ID: d.ID, App: d.App, Platform: d.Platform, Token: d.Token, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// notifier returns the notify service, or EUNAVAILABLE when courierd runs without it.
func (s *Server) notifier() (*notify.Service, error) {
	if s.notify == nil {
		return nil, courier.Errorf(courier.EUNAVAILABLE, "notifications are not configured")
	}
	return s.notify, nil
}

// bearerActor verifies the request's bearer token on a route that does not
// require one. Returns EUNAUTHORIZED when it is missing or invalid.
func (s *Server) bearerActor(c *gin.Context) (courier.Actor, error) {
	raw, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="courierd"`)
		return courier.Actor{}, courier.Errorf(courier.EUNAUTHORIZED, "a courier registers devices with a bearer token")
	}
	actor, _, err := s.users.Authenticate(c.Request.Context(), strings.TrimSpace(raw))
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="courierd", error="invalid_token"`)
		return courier.Actor{}, err
	}
	c.Set(ctxActor, actor)
	return actor, nil
}

func (s *Server) registerDevice(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	var in deviceIn
	if err := decode(c, &in); err != nil {
		return err
	}
	din := notify.DeviceInput{Token: in.Token, Platform: in.Platform, App: in.App}
	var d *courier.Device
	switch in.App {
	case courier.AppCustomer:
		if in.TrackingToken == "" {
			return courier.FieldError("tracking_token", "is required for app customer")
		}
		d, err = n.RegisterCustomerDevice(c.Request.Context(), in.TrackingToken, din)
	case courier.AppCourier:
		if in.TrackingToken != "" {
			return courier.FieldError("tracking_token", "is only for app customer")
		}
		actor, aerr := s.bearerActor(c)
		if aerr != nil {
			return aerr
		}
		d, err = n.RegisterCourierDevice(c.Request.Context(), actor, din)
	default:
		return courier.FieldError("app", "must be courier or customer")
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toDevice(d))
	return nil
}

func (s *Server) deleteDevice(c *gin.Context) error {
	n, err := s.notifier()
	if err != nil {
		return err
	}
	var in deviceIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Platform != "" {
		return courier.FieldError("platform", "is only for registering")
	}
	din := notify.DeviceInput{Token: in.Token, App: in.App}
	switch in.App {
	case courier.AppCustomer:
		if in.TrackingToken == "" {
			return courier.FieldError("tracking_token", "is required for app customer")
		}
		err = n.UnregisterCustomerDevice(c.Request.Context(), in.TrackingToken, din)
	case courier.AppCourier:
		actor, aerr := s.bearerActor(c)
		if aerr != nil {
			return aerr
		}
		err = n.UnregisterCourierDevice(c.Request.Context(), actor, din)
	default:
		return courier.FieldError("app", "must be courier or customer")
	}
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
