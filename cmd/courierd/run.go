package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/courierhq/courier"
	"github.com/courierhq/courier/api"
	"github.com/courierhq/courier/auth"
	"github.com/courierhq/courier/cashdesk"
	"github.com/courierhq/courier/dispatch"
	"github.com/courierhq/courier/geo"
	"github.com/courierhq/courier/notify"
	"github.com/courierhq/courier/notify/fcm"
	"github.com/courierhq/courier/reports"
	"github.com/courierhq/courier/revocation"
	"github.com/courierhq/courier/sheetpdf"
	"github.com/courierhq/courier/store"
	"github.com/courierhq/courier/throttle"
	"github.com/redis/go-redis/v9"
)

// Run starts courierd with cfg and serves until ctx is cancelled, then drains
// requests for up to cfg.ShutdownTimeout. Logs and the demo logins go to out.
func Run(ctx context.Context, cfg Config, out io.Writer) (err error) {
	log := newLogger(cfg, out)
	cfg.Print(out)
	clock := courier.SystemClock{}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return err
	}

	db, err := store.Open(ctx, cfg.databaseURL(), store.WithClock(clock))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	log.Info("store ready", slog.String("database", maskURL(cfg.databaseURL())))

	rdb, closeRedis, err := openRedis(ctx, cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer closeRedis()

	keys := auth.KeyConfig{Algorithm: cfg.JWTAlgorithm, Secret: []byte(cfg.JWTSecret), KeyFile: cfg.JWTKeyFile,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL}
	if cfg.Demo && cfg.JWTSecret == "" && cfg.JWTKeyFile == "" {
		keys.Secret = []byte(rand.Text() + rand.Text())
		log.Warn("demo mode: JWT_SECRET not set, using a random secret; tokens end with this process")
	}
	tokens, err := auth.NewTokens(keys, clock)
	if err != nil {
		return err
	}
	users := auth.NewUsers(db, tokens, throttle.NewLogins(rdb, "throttle:", log), auth.DefaultLimits, cfg.BcryptCost)
	if cfg.Demo {
		users.MinPassword = len(demoPassword) // the demo logins' password is "demo"
	}
	if cfg.SessionTTL > 0 {
		users.SessionTTL = cfg.SessionTTL
	}
	revocations := revocation.New(rdb, "courierd:revoked", log) // a logout reaches every replica's session cache
	users.SetRevocations(revocations)
	svc := dispatch.New(db, clock, dispatch.Config{Currency: cfg.Currency, Location: loc, Tariff: dispatch.DefaultTariff,
		DefaultServiceMinutes: 5}, geo.NewZones(db), users)
	defer svc.Close()
	svc.SetSolver(dispatch.SolverSettings{PlanLease: cfg.PlanLease})
	svc.WatchPlans() // plans whose replica died are marked failed, now and while this one runs
	model := geo.DefaultTravelModel(loc)
	var travel geo.MatrixSource = model
	if cfg.OSRMURL != "" {
		osrm, err := geo.NewOSRM(cfg.OSRMURL, httpFetch(&http.Client{Timeout: 60 * time.Second}))
		if err != nil {
			return fmt.Errorf("OSRM_URL: %w", err)
		}
		osrm.RushFactor = model.RushFactor
		svc.SetTravel(osrm)
		travel = osrm
		log.Info("travel times from OSRM", slog.String("url", cfg.OSRMURL))
	} else {
		svc.SetTravel(model)
		log.Info("travel times from the haversine travel model (no OSRM_URL)")
	}
	trackCfg := geo.TrackerConfig{Fleet: cfg.Fleet}.WithDefaults()
	if err := trackCfg.Validate(); err != nil {
		return fmt.Errorf("COURIER_FLEET: %w", err)
	}
	tracker := geo.NewTracker(rdb, clock, trackCfg, svc)
	db.OnPlansChanged(tracker.PlansChangedHook(300*time.Millisecond, log)) // the replicas' cached plans follow every commit

	targets, err := notify.ParseTargetPolicy(cfg.WebhookAllowedNets)
	if err != nil {
		return fmt.Errorf("COURIER_WEBHOOK_ALLOWED_NETS: %w", err)
	}
	notes := notify.New(db, clock, notify.Config{Language: cfg.Language, Location: loc, Company: cfg.Company, PublicURL: cfg.PublicURL,
		ArrivingMinutes: cfg.ArrivingMinutes, WebhookTargets: targets, SendTimeout: cfg.NotifySendTimeout, Lease: cfg.NotifyLease}, log)
	notes.SetTravel(travel)
	notes.SetPositions(tracker)
	notes.SetTrackCounter(throttle.New(rdb, "track:")) // one tracking-link limit across replicas
	sender, err := pushSender(ctx, cfg, log)
	if err != nil {
		return err
	}
	if cfg.AdminLogin != "" {
		if err := ensureAdmin(ctx, db, users, cfg.AdminLogin, cfg.AdminPassword, log); err != nil {
			return fmt.Errorf("COURIER_ADMIN_LOGIN: %w", err)
		}
	}
	var demoDate string // the demo's delivery day: the console opens on it
	if cfg.Demo {
		if demoDate, err = loadDemo(ctx, db, users, svc, clock, loc, out); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	printer, err := sheetpdf.New(cfg.FontDir, cfg.Language, cfg.Currency, loc)
	if err != nil {
		log.Warn("route sheet PDFs are off", slog.Any("err", err))
		printer = nil
	}
	desk := cashdesk.New(db, clock, cashdesk.Config{Currency: cfg.Currency, Location: loc})
	var proxies []string
	for _, p := range strings.Split(cfg.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	reps := reports.New(db, clock, reports.Config{Currency: cfg.Currency, Location: loc}, tracker, log)
	srv := api.New(api.Deps{TrustedProxies: proxies, Log: log, Clock: clock, Store: db, Users: users, Dispatch: svc, Cashdesk: desk, Tracker: tracker, Notify: notes, Printer: printer, Company: cfg.Company,
		Reports: reps,
		Console: api.ConsoleConfig{Dir: cfg.WebDir, TileURL: consoleTiles(cfg.TileURL), TimeZone: cfg.TimeZone, Currency: cfg.Currency,
			Language: cfg.Language, Company: cfg.Company, Date: demoDate},
		Ready: map[string]func(context.Context) error{"store": db.Ping},
		// Without Redis only live tracking stops (logins count per replica meanwhile).
		Degraded:     map[string]func(context.Context) error{"redis": func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		MetricsToken: cfg.MetricsToken})
	// The notification worker drains the outbox until Run returns; every
	// replica runs one (the store's leases keep them apart).
	notes.SetMetrics(notify.NewMetrics(srv.Registry()))
	wctx, stopWorker := context.WithCancel(ctx)
	var workers sync.WaitGroup
	workers.Go(func() { notes.NewWorker(sender, nil).Run(wctx) })
	workers.Go(func() { revocations.Listen(wctx, users.Forget, users.ForgetAll) })
	workers.Go(func() { tracker.RunLive(wctx, log) }) // nearby answers from this replica's copy of the live positions
	defer func() { stopWorker(); workers.Wait() }()
	go purgeIdempotencyKeys(ctx, db, clock, log)
	if cfg.MetricsAddr != "" {
		ln, lerr := net.Listen("tcp", cfg.MetricsAddr)
		if lerr != nil {
			return fmt.Errorf("COURIER_METRICS_ADDR: %w", lerr)
		}
		log.Info("metrics listening", slog.String("addr", ln.Addr().String()))
		if cfg.OnMetricsListen != nil {
			cfg.OnMetricsListen(ln.Addr().String())
		}
		mctx, stopMetrics := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			errc <- serveOn(mctx, ln, srv.MetricsHandler(), cfg.ShutdownTimeout, log.With(slog.String("listener", "metrics")))
		}()
		defer func() {
			stopMetrics()
			if merr := <-errc; merr != nil && err == nil {
				err = fmt.Errorf("metrics listener: %w", merr)
			}
		}()
	} else if cfg.MetricsToken == "" {
		log.Warn("metrics: GET /metrics is not served (set COURIER_METRICS_ADDR or COURIER_METRICS_TOKEN)")
	}
	return serve(ctx, cfg, srv.Handler(), log)
}

// consoleTiles is the console's tile URL: "none" (or "off") means no tile layer.
func consoleTiles(u string) string {
	if v := strings.ToLower(strings.TrimSpace(u)); v == "none" || v == "off" {
		return ""
	}
	return u
}

func serve(ctx context.Context, cfg Config, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ln = api.JSONErrors(ln) // net/http's own 400s in the JSON error shape too
	log.Info("courierd listening", slog.String("addr", ln.Addr().String()))
	if cfg.OnListen != nil {
		cfg.OnListen(ln.Addr().String())
	}
	return serveOn(ctx, ln, h, cfg.ShutdownTimeout, log)
}

// serveOn serves h on ln until ctx ends, then drains requests for up to timeout.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration, log *slog.Logger) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", slog.Duration("timeout", timeout))
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// openRedis connects to REDIS_URL, or starts an in-process miniredis when it is
// empty: the same go-redis code path either way. A URL with addr= parameters
// names the nodes of a Redis Cluster (redis://node1:6379?addr=node2:6379&addr=node3:6379).
func openRedis(ctx context.Context, url string, log *slog.Logger) (redis.UniversalClient, func(), error) {
	var mini *miniredis.Miniredis
	if url == "" {
		// It listens on loopback, where any local process could connect: a
		// random password keeps them out (no FLUSHALL resetting the login throttle).
		mini = miniredis.NewMiniRedis()
		password := rand.Text()
		mini.RequireAuth(password)
		if err := mini.StartAddr("127.0.0.1:0"); err != nil {
			return nil, nil, fmt.Errorf("start embedded redis: %w", err)
		}
		url = "redis://:" + password + "@" + mini.Addr() + "/0"
		log.Info("redis: REDIS_URL not set, using in-process miniredis with a random password", slog.String("addr", mini.Addr()))
	}
	var rdb redis.UniversalClient
	if u, err := neturl.Parse(url); err == nil && u.Query().Has("addr") {
		// A Redis Cluster: its first node in the URL, the others as addr=
		// parameters. A fleet's keys share a hash tag, so one slot.
		opt, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb = redis.NewClusterClient(opt)
	} else {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		rdb = redis.NewClient(opt)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		if mini != nil {
			mini.Close()
		}
		return nil, nil, fmt.Errorf("redis at %s: %w", maskURL(url), err)
	}
	return rdb, func() {
		rdb.Close()
		if mini != nil {
			mini.Close()
		}
	}, nil
}

func newLogger(cfg Config, out io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// ensureAdmin creates the first admin from the configuration when the login
// is free. Replicas starting together may race: the one that loses finds the
// login taken, which is what it wanted.
func ensureAdmin(ctx context.Context, db courier.Store, users *auth.Users, login, password string, log *slog.Logger) error {
	if _, err := db.UserByLogin(ctx, login); err == nil {
		return nil
	} else if courier.ErrorCode(err) != courier.ENOTFOUND {
		return err
	}
	if err := courier.ValidateLogin("login", login); err != nil {
		return err
	}
	hash, err := users.HashPassword("password", password)
	if err != nil {
		return err
	}
	if err := db.CreateUser(ctx, &courier.User{Login: login, Name: login, Role: courier.RoleAdmin, PasswordHash: hash, Active: true}); courier.ErrorCode(err) == courier.ECONFLICT {
		return nil // another replica starting at the same time created it
	} else if err != nil {
		return err
	}
	log.Info("created admin user", slog.String("login", login))
	return nil
}

// httpFetch adapts an HTTP client to geo.Fetch (geo itself does not speak HTTP).
func httpFetch(client *http.Client) geo.Fetch {
	return func(ctx context.Context, url string) (int, io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		return resp.StatusCode, resp.Body, nil
	}
}

// pushSender picks the push sender: FCM with the service account of
// FIREBASE_CREDENTIALS, FCM at FCM_ENDPOINT (a proxy or a local fake, no
// Google credentials needed), or, with neither, a sender that only logs.
func pushSender(ctx context.Context, cfg Config, log *slog.Logger) (notify.Sender, error) {
	if cfg.FirebaseCredentials == "" && cfg.FCMEndpoint == "" {
		log.Warn("push: no FIREBASE_CREDENTIALS or FCM_ENDPOINT; notifications are only logged")
		return &notify.LogSender{Log: log}, nil
	}
	s, err := fcm.New(ctx, fcm.Config{CredentialsFile: cfg.FirebaseCredentials, Endpoint: cfg.FCMEndpoint, ProjectID: cfg.FirebaseProjectID})
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	endpoint := cfg.FCMEndpoint
	if endpoint == "" {
		endpoint = "https://fcm.googleapis.com"
	}
	log.Info("push: Firebase Cloud Messaging", slog.String("project", s.ProjectID()), slog.String("endpoint", endpoint))
	return s, nil
}

// purgeIdempotencyKeys forgets Idempotency-Keys older than two days, hourly:
// retries come within minutes, and the records hold whole responses. It
// forgets expired refresh-token families too.
func purgeIdempotencyKeys(ctx context.Context, db courier.Store, clock courier.Clock, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := db.PurgeIdempotencyKeys(ctx, clock.Now().Add(-48*time.Hour))
		if err != nil && ctx.Err() == nil {
			log.Warn("purge idempotency keys", slog.Any("err", err))
		} else if n > 0 {
			log.Info("purged idempotency keys", slog.Int64("count", n))
		}
		// Refresh-token families whose last token expired end with it.
		if n, err := db.PurgeRefreshFamilies(ctx, clock.Now()); err != nil && ctx.Err() == nil {
			log.Warn("purge refresh families", slog.Any("err", err))
		} else if n > 0 {
			log.Info("purged refresh families", slog.Int64("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
