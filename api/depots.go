package api

import (
	"net/http"

	"github.com/courierhq/courier"
	"github.com/gin-gonic/gin"
)

func (s *Server) listDepots(c *gin.Context) error {
	ds, err := s.dispatch.ListDepots(c.Request.Context())
	if err != nil {
		return err
	}
	out := make([]depotJSON, len(ds))
	for i, d := range ds {
		out[i] = toDepot(d)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) createDepot(c *gin.Context) error {
	var in depotIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Location == nil {
		return courier.FieldError("location", "is required")
	}
	if in.OpeningHours == nil {
		return courier.FieldError("opening_hours", "is required")
	}
	var d courier.Depot
	if err := in.apply(&d); err != nil {
		return err
	}
	if err := s.dispatch.CreateDepot(c.Request.Context(), actorOf(c), &d); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toDepot(&d))
	return nil
}

func (s *Server) getDepot(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.dispatch.Depot(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDepot(d))
	return nil
}

func (s *Server) updateDepot(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in depotIn
	if err := decode(c, &in); err != nil {
		return err
	}
	d, err := s.dispatch.UpdateDepot(c.Request.Context(), actorOf(c), id, in.apply)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toDepot(d))
	return nil
}

func (s *Server) deleteDepot(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.dispatch.DeleteDepot(c.Request.Context(), actorOf(c), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
