package api

import (
	"net/http"
	"strings"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/auth"
	"github.com/gin-gonic/gin"
)

type loginIn struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type tokenJSON struct {
	AccessToken  string       `json:"access_token"`
	RefreshToken string       `json:"refresh_token"`
	TokenType    string       `json:"token_type"`
	ExpiresIn    int64        `json:"expires_in"`
	Role         courier.Role `json:"role"`
	UserID       int64        `json:"user_id"`
	CourierID    *int64       `json:"courier_id"`
}

func tokenAnswer(u *courier.User, p auth.Pair) tokenJSON {
	return tokenJSON{AccessToken: p.Access, RefreshToken: p.Refresh, TokenType: "Bearer",
		ExpiresIn: int64(p.ExpiresIn.Seconds()), Role: u.Role, UserID: u.ID, CourierID: nullID(u.CourierID)}
}

func (s *Server) login(c *gin.Context) error {
	var in loginIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Login) == "" {
		return courier.FieldError("login", "is required")
	}
	if in.Password == "" {
		return courier.FieldError("password", "is required")
	}
	u, p, err := s.users.Login(c.Request.Context(), in.Login, in.Password, c.ClientIP())
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenAnswer(u, p))
	return nil
}

type refreshIn struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(c *gin.Context) error {
	var in refreshIn
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		return courier.FieldError("refresh_token", "is required")
	}
	u, p, err := s.users.Refresh(c.Request.Context(), in.RefreshToken)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, tokenAnswer(u, p))
	return nil
}

// logout ends every session of the caller: their refresh tokens stop working.
func (s *Server) logout(c *gin.Context) error {
	if err := s.users.Logout(c.Request.Context(), actorOf(c)); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

func (s *Server) me(c *gin.Context) error {
	a := actorOf(c)
	u, err := s.users.User(c.Request.Context(), a, a.UserID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUser(u))
	return nil
}

type userIn struct {
	Login    *string       `json:"login"`
	Name     *string       `json:"name"`
	Role     *courier.Role `json:"role"`
	Password *string       `json:"password"`
	Active   *bool         `json:"active"`
}

func (s *Server) listUsers(c *gin.Context) error {
	us, err := s.users.ListUsers(c.Request.Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = toUser(u)
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
	return nil
}

func (s *Server) createUser(c *gin.Context) error {
	var in userIn
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := s.users.CreateUser(c.Request.Context(), actorOf(c), auth.UserInput(in))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, toUser(u))
	return nil
}

func (s *Server) getUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.users.User(c.Request.Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUser(u))
	return nil
}

func (s *Server) updateUser(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var in userIn
	if err := decode(c, &in); err != nil {
		return err
	}
	u, err := s.users.UpdateUser(c.Request.Context(), actorOf(c), id, auth.UserInput(in))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toUser(u))
	return nil
}
