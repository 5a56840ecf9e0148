package api

import (
	"net/http"
	"strings"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/dispatch"
	"github.com/gin-gonic/gin"
)

type courierIn struct {
	Name     *string      `json:"name"`
	Phone    *string      `json:"phone"`
	Login    *string      `json:"login"`
	Password *string      `json:"password"`
	Vehicle  *vehicleJSON `json:"vehicle"`
	Shift    *shiftJSON   `json:"shift"`
	DepotID  *int64       `json:"depot_id"`
	ZoneIDs  *[]int64     `json:"zone_ids"`
	Active   *bool        `json:"active"`
	Version  *int64       `json:"version"`
}

func (in *courierIn) domain() dispatch.CourierInput {
	out := dispatch.CourierInput{Name: in.Name, Phone: in.Phone, Login: in.Login, Password: in.Password,
		DepotID: in.DepotID, ZoneIDs: in.ZoneIDs, Active: in.Active, Version: in.Version}
	if in.Vehicle != nil {
		v := courier.Vehicle(*in.Vehicle)
		out.Vehicle = &v
	}
	if in.Shift != nil {
		sh := courier.Shift(*in.Shift)
		out.Shift = &sh
	}
	return out
}

func (s *Server) listCouriers(c *gin.Context) error {
	f := courier.CourierFilter{Search: strings.TrimSpace(c.Query("q"))}
	var err error
	if f.DepotID, err = queryInt(c, "depot_id"); err != nil {
		return err
	}
	switch v := c.Query("active"); v {
	case "":
	case "true", "false":
		b := v == "true"
		f.Active = &b
	default:
		return courier.FieldError("active", "must be true or false")
	}
	cs, err := s.dispatch.ListCouriers(c.Request.Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	out := make([]courierJSON, len(cs))
	for i, x := range cs {
		out[i] = toCourier(x)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) createCourier(c *gin.Context) error {
	var in courierIn
	if err := decode(c, &in); err != nil {
		return err
	}
	x, err := s.dispatch.CreateCourier(c.Request.Context(), actorOf(c), in.domain())
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toCourier(x))
	return nil
}

func (s *Server) getCourier(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	x, err := s.dispatch.Courier(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toCourier(x))
	return nil
}

func (s *Server) updateCourier(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in courierIn
	if err := decode(c, &in); err != nil {
		return err
	}
	x, err := s.dispatch.UpdateCourier(c.Request.Context(), actorOf(c), id, in.domain())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toCourier(x))
	return nil
}
