package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/auth"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Keys of values kept on the gin context.
const (
	ctxActor      = "actor"
	ctxRequestID  = "request_id"
	ctxLogger     = "logger"
	ctxBaseLogger = "base_logger"
	ctxBody       = "body"
	ctxClaims     = "claims"
)

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	if base, ok := c.Get(ctxBaseLogger); ok { // made on first use: most requests log nothing
		l := base.(*slog.Logger).With(slog.String("request_id", c.GetString(ctxRequestID)))
		c.Set(ctxLogger, l)
		return l
	}
	return slog.Default()
}

// actorOf returns who is calling; routes without auth have the zero Actor.
func actorOf(c *gin.Context) courier.Actor {
	if a, ok := c.Get(ctxActor); ok {
		return a.(courier.Actor)
	}
	return courier.Actor{}
}

// withRequestID takes a sane X-Request-ID from the client or makes one, and
// gives the request a logger that carries it.
func (s *Server) withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)
	c.Set(ctxBaseLogger, s.log)
	c.Header("X-Request-ID", id)
	c.Next()
}

// metrics counts requests and their latency by route template, method and status.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courierd_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "courierd_http_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// knownMethods are the methods that get a label value of their own; any
// other (a client may send any token as a method) counts as "other", so
// label values stay few whatever clients send.
var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// methodLabel is the method as a metrics label and in the request log.
func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "other"
}

// observe logs each request and records its metrics. Labels come from the
// server's own vocabulary only: the route template ("unmatched" for every
// path no route has), a known method or "other", and the status.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := methodLabel(c.Request.Method)
	status := strconv.Itoa(c.Writer.Status())
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, method, status).Inc()
	s.metrics.latency.WithLabelValues(route, method, status).Observe(d.Seconds())
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	if s.log.Enabled(c.Request.Context(), level) {
		logger(c).Log(c.Request.Context(), level, "request", slog.String("method", method), slog.String("route", route),
			slog.Int("status", c.Writer.Status()), slog.Duration("duration", d), slog.Int64("user_id", actorOf(c).UserID))
	}
}

// recoverPanics answers a panic as an internal error and logs its value.
func recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeError(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// authenticate verifies the bearer token and checks the route's roles.
func (s *Server) authenticate(roles []courier.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || raw == "" {
			c.Header("WWW-Authenticate", `Bearer realm="courierd"`)
			writeError(c, courier.Errorf(courier.EUNAUTHORIZED, "a bearer token is required"))
			return
		}
		actor, claims, err := s.users.Authenticate(c.Request.Context(), strings.TrimSpace(raw))
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="courierd", error="invalid_token"`)
			writeError(c, err)
			return
		}
		actor.TokenID = claims.ID // the jti: money and goods changes record it
		c.Set(ctxActor, actor)
		c.Set(ctxClaims, claims)
		if len(roles) > 0 && !actor.Is(roles...) {
			writeError(c, actor.Require(roles...))
			return
		}
		c.Next()
	}
}

// sessionEnded reports whether the session of the request's token has been
// ended since the request began (a logout, a new password, deactivation):
// long event streams ask it as they go and end.
func (s *Server) sessionEnded(c *gin.Context) bool {
	claims, ok := c.Get(ctxClaims)
	if !ok {
		return false
	}
	err := s.users.Check(c.Request.Context(), actorOf(c), claims.(*auth.Claims))
	return courier.ErrorCode(err) == courier.EUNAUTHORIZED
}

// held keeps what a handler writes (status, body) instead of sending it,
// so that an answer leaves only once it is committed with its effects.
type held struct {
	gin.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (w *held) WriteHeader(code int) {
	if code > 0 {
		w.status = code
	}
}

func (w *held) WriteHeaderNow() {}

func (w *held) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}

func (w *held) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *held) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *held) Size() int { return w.buf.Len() }

func (w *held) Written() bool { return w.status != 0 }

// send writes the held answer to the client.
func (w *held) send() {
	w.ResponseWriter.WriteHeader(w.Status())
	w.ResponseWriter.WriteHeaderNow()
	_, _ = w.ResponseWriter.Write(w.buf.Bytes())
}

// idempotencyScope is whose keys a request's Idempotency-Key is among.
func idempotencyScope(c *gin.Context) string {
	if a := actorOf(c); a.UserID != 0 {
		return "user:" + itoa(a.UserID)
	}
	return "anon:" + c.ClientIP()
}

// idempotent honours the Idempotency-Key header on POST: the same key with the
// same request answers the first response again (header Idempotent-Replayed:
// true) without running the handler; the same key with another request is 422;
// a key whose first request is still running is 409 (or, on SQLite, waits for
// it). Keys are per
// authenticated user: a call without a verified bearer token (a public route)
// stores nothing, so anonymous clients cannot fill the table, and no client
// is ever answered with another's response.
//
// The handler runs in one transaction with the key (BeginIdempotent): its
// writes and its answer are committed together, and the answer is sent only
// after the commit. A request killed with its server committed nothing and
// left no reservation, so its retry runs at once; a request that committed
// has its answer stored, so its retry gets it. Answers 5xx and 429 are not
// stored: their writes are rolled back and the key stays free.
func (s *Server) idempotent(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	actor := actorOf(c)
	if c.Request.Method != http.MethodPost || key == "" || actor.UserID == 0 || selfIdempotent[c.FullPath()] || strings.HasPrefix(c.FullPath(), "/api/v1/auth/") {
		// Settlements keep their keys in their own transaction; logins and
		// refreshes are not replayed (their answers are tokens, never stored).
		c.Next()
		return
	}
	if len(key) > 200 {
		writeError(c, courier.FieldError("Idempotency-Key", "must be at most 200 characters"))
		return
	}
	limit := int64(maxBody)
	if strings.HasSuffix(c.FullPath(), "/import") {
		limit = maxImportBody
	}
	body, err := readBody(c, limit)
	if err != nil {
		writeError(c, err)
		return
	}
	scope := idempotencyScope(c)
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s %s\n", c.Request.Method, c.Request.URL.RequestURI(), c.ContentType())
	sum.Write(body)
	hash := hex.EncodeToString(sum.Sum(nil))
	rec := courier.IdempotencyRecord{Scope: scope, Key: key, RequestHash: hash, CreatedAt: s.clock.Now()}
	tx, prev, err := s.store.BeginIdempotent(c.Request.Context(), rec)
	if err != nil {
		writeError(c, err)
		return
	}
	if prev != nil {
		if prev.RequestHash != hash {
			writeError(c, courier.Errorf(courier.EIDEMPOTENCY, "this Idempotency-Key was used with a different request"))
			return
		}
		c.Header("Idempotent-Replayed", "true")
		c.Data(prev.Status, "application/json; charset=utf-8", prev.Body)
		c.Abort()
		return
	}
	req := c.Request
	c.Request = req.WithContext(tx.Context())
	w := &held{ResponseWriter: c.Writer}
	c.Writer = w
	defer func() {
		c.Writer, c.Request = w.ResponseWriter, req
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	c.Next()
	if st := w.Status(); st >= 500 || st == http.StatusTooManyRequests {
		if err := tx.Rollback(); err != nil {
			logger(c).Error("idempotent request: rollback", slog.Any("err", err))
		}
		w.send()
		return
	}
	if err := tx.Commit(w.Status(), w.buf.Bytes()); err != nil {
		// Nothing was committed: the client may retry with the same key.
		logger(c).Error("idempotent request: commit", slog.Any("err", err))
		c.Writer, c.Request = w.ResponseWriter, req
		writeError(c, courier.Errorf(courier.EUNAVAILABLE, "the change could not be saved; retry with the same Idempotency-Key"))
		return
	}
	w.send()
}
