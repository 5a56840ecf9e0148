package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net/http"

	"github.com/courierhq/courier"
	"github.com/gin-gonic/gin"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	courier.EBADREQUEST:   http.StatusBadRequest,
	courier.EINVALID:      http.StatusUnprocessableEntity,
	courier.EIDEMPOTENCY:  http.StatusUnprocessableEntity,
	courier.EUNAUTHORIZED: http.StatusUnauthorized,
	courier.EFORBIDDEN:    http.StatusForbidden,
	courier.ENOTFOUND:     http.StatusNotFound,
	courier.ECONFLICT:     http.StatusConflict,
	courier.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	courier.ETOOMANY:      http.StatusTooManyRequests,
	courier.EUNAVAILABLE:  http.StatusServiceUnavailable,
	courier.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the JSON of every error answer: {"error":{"code","message","details"}}.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// writeError answers with err mapped through statusOf. Anything that is not a
// domain error is logged with the request id and answered "Internal error.".
func writeError(c *gin.Context, err error) {
	if c.Request.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, driver.ErrBadConn)) {
		// The client went away (a timeout, a load balancer giving up, a
		// phone losing its network): nothing failed here, and nobody reads
		// the answer. 499 is nginx's "client closed request". A query cut
		// short by the cancellation may also come back as a bad connection
		// (pgx closes it), not as the context's error.
		logger(c).Info("the client went away", slog.String("path", c.FullPath()), slog.Any("err", err))
		c.AbortWithStatus(statusClientClosed)
		return
	}
	code := courier.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		logger(c).Error("internal error", slog.String("method", c.Request.Method), slog.String("path", c.FullPath()), slog.Any("err", err))
		code = courier.EINTERNAL
	} else if status == http.StatusServiceUnavailable {
		logger(c).Warn("unavailable", slog.String("path", c.FullPath()), slog.Any("err", err))
	}
	details := courier.ErrorDetails(err)
	if details == nil {
		details = map[string]any{}
	}
	if status == http.StatusInternalServerError {
		details = map[string]any{"request_id": requestID(c)}
	}
	if code == courier.ETOOMANY {
		if s, ok := details["retry_after_s"].(int); ok {
			c.Header("Retry-After", itoa(int64(s)))
		}
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorJSON{Code: code, Message: courier.ErrorMessage(err), Details: details}})
}

// statusClientClosed answers a request whose client went away before the answer.
const statusClientClosed = 499

// handler is how our endpoints are written: they answer on success and return
// an error otherwise, which wrap turns into the one error shape.
type handler func(c *gin.Context) error

func wrap(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			writeError(c, err)
		}
	}
}

// errBody is the error returned for a request body that cannot be read.
func errBody(field, format string, args ...any) error {
	e := courier.Errorf(courier.EBADREQUEST, format, args...)
	if field != "" {
		e.Details = map[string]any{"field": field}
	}
	return e
}

var errNoRoute = errors.New("no route")
