// Package api is the HTTP face of courierd: gin handlers, JWT authentication,
// roles, strict request decoding, idempotent POSTs, and the one place where
// domain errors become HTTP statuses. mobile-api-spec/openapi.yaml describes
// every route here, and the contract test keeps them in step.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/auth"
	"github.com/courierhq/courier/cashdesk"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/reports"
	"github.com/courierhq/courier/sheetpdf"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are what the server serves from; cmd/courierd builds them.
type Deps struct {
	Log      *slog.Logger
	Clock    courier.Clock
	Store    courier.IdempotencyStore
	Users    *auth.Users
	Dispatch *dispatch.Service
	Cashdesk *cashdesk.Service // nil answers 503 on the cash desk routes
	Tracker  *geo.Tracker
	// Notify registers devices, serves customer tracking and webhooks; nil answers 503 there.
	Notify *notify.Service
	// Printer prints route sheets as PDF; nil answers 503.
	Printer *sheetpdf.Printer
	Company string // printed on documents
	// Ready are the checks of GET /readyz by name (the store, ...): when one
	// fails, /readyz answers 503.
	Ready map[string]func(context.Context) error
	// Degraded are checks of GET /readyz whose failure leaves the server
	// useful (Redis: only live tracking stops): /readyz then answers 200
	// "degraded", so a load balancer keeps sending orders and cash here.
	Degraded map[string]func(context.Context) error
	// TrustedProxies are the proxies whose X-Forwarded-For is believed (none by default).
	TrustedProxies []string
	// Console is how the web console is served at /console/ (console.go).
	Console ConsoleConfig
	// MetricsToken is the bearer token GET /metrics asks for. Empty: Handler
	// does not serve /metrics (404); MetricsHandler serves it on an address
	// of its own.
	MetricsToken string
	// Reports builds reports and keeps pay rules; nil answers 503 there.
	Reports *reports.Service
}

// Server routes HTTP requests to the domain services.
type Server struct {
	log      *slog.Logger
	clock    courier.Clock
	store    courier.IdempotencyStore
	users    *auth.Users
	dispatch *dispatch.Service
	cashdesk *cashdesk.Service
	tracker  *geo.Tracker
	notify   *notify.Service
	printer  *sheetpdf.Printer
	company  string
	pings    *prometheus.CounterVec
	ready    map[string]func(context.Context) error
	degraded map[string]func(context.Context) error
	registry *prometheus.Registry
	metrics  *metrics
	// metricsToken is asked for by /metrics (empty: not served by Handler).
	metricsToken string
	engine       *gin.Engine
	// pollEvery is how often event streams read the store.
	pollEvery time.Duration
	reports   *reports.Service
}

// route is one endpoint. roles nil means public; otherwise a valid token with one of roles.
type route struct {
	method, path string
	roles        []courier.Role
	h            handler
}

var (
	public   []courier.Role
	everyone = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher, courier.RoleCashier, courier.RoleCourier}
	staff    = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher}
	admins   = []courier.Role{courier.RoleAdmin}
	office   = []courier.Role{courier.RoleAdmin, courier.RoleDispatcher, courier.RoleCashier}
)

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{log: d.Log, clock: d.Clock, store: d.Store, users: d.Users, dispatch: d.Dispatch, tracker: d.Tracker, notify: d.Notify, printer: d.Printer, company: d.Company, ready: d.Ready, degraded: d.Degraded,
		registry: prometheus.NewRegistry(), pollEvery: 300 * time.Millisecond, metricsToken: d.MetricsToken}
	s.cashdesk, s.reports = d.Cashdesk, d.Reports
	if s.log == nil {
		s.log = slog.Default()
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.registry)
	s.pings = newPingCounter(s.registry)

	e := gin.New()
	e.ContextWithFallback = true
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(d.TrustedProxies); err != nil {
		s.log.Error("COURIER_TRUSTED_PROXIES: ignored", slog.Any("err", err))
		_ = e.SetTrustedProxies(nil)
	}
	e.Use(s.withRequestID, s.observe, recoverPanics)
	e.NoRoute(func(c *gin.Context) {
		writeError(c, courier.Errorf(courier.ENOTFOUND, "no such endpoint: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorJSON{Code: "method_not_allowed",
			Message: "method " + c.Request.Method + " is not allowed here", Details: map[string]any{}}})
	})
	for _, r := range s.routes() {
		chain := []gin.HandlerFunc{}
		if r.roles != nil {
			chain = append(chain, s.authenticate(r.roles))
		}
		chain = append(chain, s.idempotent, wrap(r.h))
		e.Handle(r.method, r.path, chain...)
	}
	s.mountConsole(e, d.Console)
	s.engine = e
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Registry returns the Prometheus registry, for other packages' collectors.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Routes lists "METHOD path" of every endpoint, for the contract test.
func (s *Server) Routes() []string { return s.RouteNames() }

// RouteNames lists "METHOD path" of every endpoint; it needs no dependencies,
// so a zero Server answers it.
func (s *Server) RouteNames() []string {
	var out []string
	for _, r := range s.routes() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

func (s *Server) routes() []route {
	return append([]route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"GET", "/metrics", public, s.serveMetrics},

		{"POST", "/api/v1/auth/login", public, s.login},
		{"POST", "/api/v1/auth/refresh", public, s.refresh},
		{"POST", "/api/v1/auth/logout", everyone, s.logout},
		{"GET", "/api/v1/me", everyone, s.me},

		{"GET", "/api/v1/users", admins, s.listUsers},
		{"POST", "/api/v1/users", admins, s.createUser},
		{"GET", "/api/v1/users/:id", everyone, s.getUser},
		{"PATCH", "/api/v1/users/:id", admins, s.updateUser},

		{"GET", "/api/v1/depots", everyone, s.listDepots},
		{"POST", "/api/v1/depots", staff, s.createDepot},
		{"GET", "/api/v1/depots/:id", everyone, s.getDepot},
		{"PATCH", "/api/v1/depots/:id", staff, s.updateDepot},
		{"DELETE", "/api/v1/depots/:id", admins, s.deleteDepot},

		{"GET", "/api/v1/couriers", office, s.listCouriers},
		{"POST", "/api/v1/couriers", staff, s.createCourier},
		{"GET", "/api/v1/couriers/nearby", office, s.nearbyCouriers},
		{"GET", "/api/v1/couriers/:id", everyone, s.getCourier},
		{"GET", "/api/v1/couriers/:id/location", everyone, s.courierLocation},
		{"GET", "/api/v1/couriers/:id/track", everyone, s.courierTrack},
		{"POST", "/api/v1/courier/locations", []courier.Role{courier.RoleCourier}, s.postLocations},
		{"GET", "/api/v1/tracking/positions", office, s.positions},
		{"GET", "/api/v1/tracking/stream", office, s.trackingStream},
		{"PATCH", "/api/v1/couriers/:id", staff, s.updateCourier},

		{"GET", "/api/v1/zones", everyone, s.listZones},
		{"POST", "/api/v1/zones", staff, s.createZone},
		{"GET", "/api/v1/zones/lookup", everyone, s.lookupZones},
		{"POST", "/api/v1/zones/rezone", staff, s.rezoneOrders},
		{"GET", "/api/v1/zones/:id", everyone, s.getZone},
		{"PATCH", "/api/v1/zones/:id", staff, s.updateZone},
		{"DELETE", "/api/v1/zones/:id", staff, s.deleteZone},

		{"GET", "/api/v1/plans", staff, s.listPlans},
		{"POST", "/api/v1/plans", staff, s.createPlan},
		{"GET", "/api/v1/plans/:id", staff, s.getPlan},
		{"GET", "/api/v1/plans/:id/events", staff, s.planEvents},
		{"GET", "/api/v1/plans/:id/problem", staff, s.planProblem},
		{"POST", "/api/v1/plans/:id/publish", staff, s.publishPlan},

		{"GET", "/api/v1/route-sheets", everyone, s.listSheets},
		{"POST", "/api/v1/route-sheets/optimize", staff, s.optimizeSheets},
		{"GET", "/api/v1/route-sheets/:id", everyone, s.getSheet},
		{"GET", "/api/v1/route-sheets/:id/pdf", everyone, s.sheetPDF},
		{"POST", "/api/v1/route-sheets/:id/moves", staff, s.moveStop},
		{"POST", "/api/v1/route-sheets/:id/locks", staff, s.lockStop},
		{"POST", "/api/v1/route-sheets/:id/start", []courier.Role{courier.RoleCourier, courier.RoleDispatcher, courier.RoleAdmin}, s.startSheet},
		{"GET", "/api/v1/courier/sheets", []courier.Role{courier.RoleCourier}, s.courierSheets},

		{"GET", "/api/v1/orders", everyone, s.listOrders},
		{"POST", "/api/v1/orders", staff, s.createOrder},
		{"POST", "/api/v1/orders/import", staff, s.importOrders},
		{"GET", "/api/v1/orders/:id", everyone, s.getOrder},
		{"PATCH", "/api/v1/orders/:id", staff, s.updateOrder},
		{"POST", "/api/v1/orders/:id/status", everyone, s.changeOrderStatus},
		{"GET", "/api/v1/orders/:id/history", everyone, s.orderHistory},
		{"GET", "/api/v1/orders/:id/tracking-link", staff, s.orderTrackingLink},

		// Notifications: devices (couriers with a bearer token, customers with a
		// tracking token), dispatcher messages, webhooks, the customer tracking link.
		{"POST", "/api/v1/devices", public, s.registerDevice},
		{"DELETE", "/api/v1/devices", public, s.deleteDevice},
		{"POST", "/api/v1/couriers/:id/messages", staff, s.sendCourierMessage},
		{"GET", "/api/v1/notifications", admins, s.listNotifications},
		{"GET", "/api/v1/webhooks", admins, s.listWebhooks},
		{"POST", "/api/v1/webhooks", admins, s.createWebhook},
		{"GET", "/api/v1/webhooks/:id", admins, s.getWebhook},
		{"PATCH", "/api/v1/webhooks/:id", admins, s.updateWebhook},
		{"DELETE", "/api/v1/webhooks/:id", admins, s.deleteWebhook},
		{"GET", "/api/v1/webhooks/:id/deliveries", admins, s.webhookDeliveries},
		{"POST", "/api/v1/webhooks/:id/deliveries/:delivery_id/replay", admins, s.replayWebhookDelivery},
		{"GET", "/api/v1/track/:token", public, s.trackOrder},
		{"GET", "/t/:token", public, s.trackingPage},
	}, append(append(s.cashdeskRoutes(), s.courierDayRoutes()...), s.reportRoutes()...)...)
}

func (s *Server) healthz(c *gin.Context) error {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
	return nil
}

// readyz answers 200 when every dependency answers within 2 s, 200
// "degraded" when only optional ones (Redis) do not, else 503; each check is
// named with ok or down.
func (s *Server) readyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks, required, optional := map[string]string{}, true, true
	for _, group := range []struct {
		checks map[string]func(context.Context) error
		ok     *bool
	}{{s.ready, &required}, {s.degraded, &optional}} {
		for name, check := range group.checks {
			if err := check(ctx); err != nil {
				checks[name], *group.ok = "down", false
				logger(c).Warn("readiness check failed", slog.String("check", name), slog.Any("err", err))
			} else {
				checks[name] = "ok"
			}
		}
	}
	status, code := "ok", http.StatusOK
	switch {
	case !required:
		status, code = "unavailable", http.StatusServiceUnavailable
	case !optional:
		status = "degraded"
	}
	c.JSON(code, gin.H{"status": status, "checks": checks})
	return nil
}

// serveMetrics serves the Prometheus metrics to a caller with the metrics
// token; without a configured token they are not served on the API address.
func (s *Server) serveMetrics(c *gin.Context) error {
	if s.metricsToken == "" {
		return courier.Errorf(courier.ENOTFOUND, "metrics are not served on this address")
	}
	if err := s.metricsAllowed(c.Writer, c.Request); err != nil {
		return err
	}
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
	return nil
}

// MetricsHandler serves GET /metrics alone, for a listener of its own
// (COURIER_METRICS_ADDR), and Go's profiles under /debug/pprof/ (CPU, heap,
// goroutines, allocations: what an operator asks a loaded replica); with a
// metrics token configured it asks for it on both. The API address never
// serves the profiles.
func (s *Server) MetricsHandler() http.Handler {
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	guard := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.metricsAllowed(w, r); err != nil {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(errorBody{Error: errorJSON{Code: courier.EUNAUTHORIZED, Message: courier.ErrorMessage(err), Details: map[string]any{}}})
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	mux.Handle("GET /metrics", guard(metrics))
	mux.Handle("GET /debug/pprof/", guard(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/cmdline", guard(http.HandlerFunc(pprof.Cmdline)))
	mux.Handle("GET /debug/pprof/profile", guard(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/symbol", guard(http.HandlerFunc(pprof.Symbol)))
	mux.Handle("GET /debug/pprof/trace", guard(http.HandlerFunc(pprof.Trace)))
	return mux
}

// metricsAllowed returns EUNAUTHORIZED unless the request carries the metrics
// token (or none is configured).
func (s *Server) metricsAllowed(w http.ResponseWriter, r *http.Request) error {
	if s.metricsToken == "" {
		return nil
	}
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(raw)), []byte(s.metricsToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="courierd-metrics"`)
		return courier.Errorf(courier.EUNAUTHORIZED, "the metrics token is required")
	}
	return nil
}
