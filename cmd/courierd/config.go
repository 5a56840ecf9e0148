package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/courierhq/courier"
	"github.com/courierhq/courier/geo"
)

// Config is every setting of courierd. Each field has a flag and an
// environment variable; a flag given on the command line wins.
type Config struct {
	Addr                string
	DataDir             string
	DatabaseURL         string
	RedisURL            string
	JWTSecret           string
	JWTAlgorithm        string
	JWTKeyFile          string
	JWTIssuer           string
	JWTAudience         string
	AccessTTL           time.Duration
	RefreshTTL          time.Duration
	FirebaseCredentials string
	FCMEndpoint         string
	FirebaseProjectID   string
	PublicURL           string
	ArrivingMinutes     int
	OSRMURL             string
	TimeZone            string
	Currency            string
	Language            string
	Company             string
	TrustedProxies      string
	WebhookAllowedNets  string
	FontDir             string
	WebDir              string
	TileURL             string
	Demo                bool
	LogFormat           string
	LogLevel            string
	BcryptCost          int
	AdminLogin          string
	AdminPassword       string
	ShutdownTimeout     time.Duration
	MetricsAddr         string
	MetricsToken        string
	PlanLease           time.Duration
	NotifySendTimeout   time.Duration
	NotifyLease         time.Duration
	Fleet               string

	// OnListen, when set, is told the address the server listens on (tests use port 0).
	OnListen func(addr string)
	// OnMetricsListen, when set, is told the address of the metrics listener.
	OnMetricsListen func(addr string)
	// SessionTTL is how long a replica trusts what it cached of a user's
	// sessions; 0 means auth.DefaultSessionTTL. Not a flag: tests set it.
	SessionTTL time.Duration
}

// setting is one line of the configuration table: flag, env var, default, help.
type setting struct {
	flag, env, def, help string
	secret               bool // masked when printed
	url                  bool // a URL: only its password is masked
	str                  *string
	dur                  *time.Duration
	num                  *int
}

func (c *Config) settings() []setting {
	return []setting{
		{flag: "addr", env: "COURIER_ADDR", def: ":8080", help: "address to listen on", str: &c.Addr},
		{flag: "data-dir", env: "COURIER_DATA_DIR", def: "./data", help: "directory of the embedded SQLite database", str: &c.DataDir},
		{flag: "database-url", env: "DATABASE_URL", def: "", help: "postgres://... for PostgreSQL; empty: SQLite under the data dir", secret: true, url: true, str: &c.DatabaseURL},
		{flag: "redis-url", env: "REDIS_URL", def: "", help: "redis://host:6379/0; empty: in-process miniredis", secret: true, url: true, str: &c.RedisURL},
		{flag: "jwt-secret", env: "JWT_SECRET", def: "", help: "HS256 signing secret, at least 32 bytes (required unless --demo or a key file)", secret: true, str: &c.JWTSecret},
		{flag: "jwt-algorithm", env: "JWT_ALGORITHM", def: "HS256", help: "HS256, RS256 or EdDSA", str: &c.JWTAlgorithm},
		{flag: "jwt-key-file", env: "JWT_KEY_FILE", def: "", help: "PEM private key for RS256 or EdDSA", str: &c.JWTKeyFile},
		{flag: "jwt-issuer", env: "JWT_ISSUER", def: "courierd", help: "token issuer (iss)", str: &c.JWTIssuer},
		{flag: "jwt-audience", env: "JWT_AUDIENCE", def: "courier-api", help: "token audience (aud)", str: &c.JWTAudience},
		{flag: "access-ttl", env: "JWT_ACCESS_TTL", def: "15m", help: "access token lifetime", dur: &c.AccessTTL},
		{flag: "refresh-ttl", env: "JWT_REFRESH_TTL", def: "720h", help: "refresh token lifetime", dur: &c.RefreshTTL},
		{flag: "firebase-credentials", env: "FIREBASE_CREDENTIALS", def: "", help: "service account JSON file for FCM; empty: log-only push", str: &c.FirebaseCredentials},
		{flag: "fcm-endpoint", env: "FCM_ENDPOINT", def: "", help: "FCM base URL override (proxy or local fake); no Google credentials needed then", str: &c.FCMEndpoint},
		{flag: "firebase-project", env: "FIREBASE_PROJECT_ID", def: "", help: "Firebase project id; empty: project_id of the credentials (courier-local with FCM_ENDPOINT alone)", str: &c.FirebaseProjectID},
		{flag: "public-url", env: "COURIER_PUBLIC_URL", def: "http://localhost:8080", help: "public base URL of courierd, for customers' tracking links", str: &c.PublicURL},
		{flag: "arriving-minutes", env: "COURIER_ARRIVING_MINUTES", def: "60", help: "tell customers the courier is arriving when the ETA is this many minutes away", num: &c.ArrivingMinutes},
		{flag: "osrm-url", env: "OSRM_URL", def: "", help: "OSRM server for road distances; empty: haversine travel model", str: &c.OSRMURL},
		{flag: "timezone", env: "COURIER_TIMEZONE", def: "Europe/Moscow", help: "company time zone (IANA)", str: &c.TimeZone},
		{flag: "currency", env: "COURIER_CURRENCY", def: "RUB", help: "company currency (ISO 4217)", str: &c.Currency},
		{flag: "language", env: "COURIER_LANGUAGE", def: "ru", help: "company language for documents and messages (ru, en)", str: &c.Language},
		{flag: "company", env: "COURIER_COMPANY_NAME", def: "", help: "company name printed on route sheets", str: &c.Company},
		{flag: "web-dir", env: "COURIER_WEB_DIR", def: "./web", help: "folder of the web console served at /console/ and of the courier app at /app/ (scripts/web.sh installs the console's npm packages)", str: &c.WebDir},
		{flag: "tile-url", env: "COURIER_TILE_URL", def: "https://tile.openstreetmap.org/{z}/{x}/{y}.png", help: "map tile URL template of the console; none: no tiles, a plain background", str: &c.TileURL},
		{flag: "font-dir", env: "COURIER_FONT_DIR", def: "/usr/share/fonts/truetype/dejavu", help: "directory with DejaVuSans.ttf for PDF route sheets", str: &c.FontDir},
		{flag: "trusted-proxies", env: "COURIER_TRUSTED_PROXIES", def: "", help: "comma-separated addresses or CIDRs of the load balancers whose X-Forwarded-For is believed (login throttling per client address)", str: &c.TrustedProxies},
		{flag: "webhook-allowed-nets", env: "COURIER_WEBHOOK_ALLOWED_NETS", def: "", help: "comma-separated addresses or CIDRs of internal networks webhooks may reach (loopback, link-local and private targets are refused otherwise)", str: &c.WebhookAllowedNets},
		{flag: "log-format", env: "COURIER_LOG_FORMAT", def: "text", help: "text or json", str: &c.LogFormat},
		{flag: "log-level", env: "COURIER_LOG_LEVEL", def: "info", help: "debug, info, warn, error", str: &c.LogLevel},
		{flag: "bcrypt-cost", env: "COURIER_BCRYPT_COST", def: "10", help: "bcrypt cost of password hashes", num: &c.BcryptCost},
		{flag: "admin-login", env: "COURIER_ADMIN_LOGIN", def: "", help: "create this admin at start when no such user exists", str: &c.AdminLogin},
		{flag: "admin-password", env: "COURIER_ADMIN_PASSWORD", def: "", help: "password of COURIER_ADMIN_LOGIN", secret: true, str: &c.AdminPassword},
		{flag: "shutdown-timeout", env: "COURIER_SHUTDOWN_TIMEOUT", def: "20s", help: "how long to drain requests on SIGTERM", dur: &c.ShutdownTimeout},
		{flag: "metrics-addr", env: "COURIER_METRICS_ADDR", def: "", help: "address of a listener serving only GET /metrics and Go's profiles (/debug/pprof/) (e.g. 127.0.0.1:9090); empty: none", str: &c.MetricsAddr},
		{flag: "notify-send-timeout", env: "COURIER_NOTIFY_SEND_TIMEOUT", def: "30s", help: "how long one push or webhook request may take", dur: &c.NotifySendTimeout},
		{flag: "notify-lease", env: "COURIER_NOTIFY_LEASE", def: "2m", help: "how long a replica holds the outbox work it took (at least twice the send timeout): what a replica that dies leaves waits this long for another", dur: &c.NotifyLease},
		{flag: "metrics-token", env: "COURIER_METRICS_TOKEN", def: "", help: "bearer token GET /metrics asks for, at least 16 characters; with it /metrics is served on the API address too", secret: true, str: &c.MetricsToken},
		{flag: "fleet", env: "COURIER_FLEET", def: "default", help: "the fleet (a city) whose couriers this courierd tracks: its Redis keys are tracking:{fleet}:..., one Redis Cluster slot (letters, digits, '.', '_', '-')", str: &c.Fleet},
		{flag: "plan-lease", env: "COURIER_PLAN_LEASE", def: "15s", help: "lease of a running plan job: a replica that dies loses its plans (marked failed by another) this long after its last progress", dur: &c.PlanLease},
	}
}

// ParseConfig reads flags from args and the environment through getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("courierd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.Demo, "demo", false, "load the demo city and its logins (password demo)")
	raw := map[string]*string{}
	for _, s := range c.settings() {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		raw[s.flag] = fs.String(s.flag, v, s.help+" [$"+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, s := range c.settings() {
		v := *raw[s.flag]
		switch {
		case s.str != nil:
			*s.str = v
		case s.dur != nil:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s (-%s): %q is not a positive duration", s.env, s.flag, v)
			}
			*s.dur = d
		case s.num != nil:
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("%s (-%s): %q is not a number", s.env, s.flag, v)
			}
			*s.num = n
		}
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("COURIER_TIMEZONE: %q is not an IANA time zone", c.TimeZone)
	}
	if !courier.ValidCurrency(c.Currency) {
		return fmt.Errorf("COURIER_CURRENCY: %q is not an ISO 4217 currency we support", c.Currency)
	}
	if c.Language != "ru" && c.Language != "en" {
		return fmt.Errorf("COURIER_LANGUAGE: %q is not supported (ru, en)", c.Language)
	}
	if c.ArrivingMinutes < 1 || c.ArrivingMinutes > 600 {
		return errors.New("COURIER_ARRIVING_MINUTES must be within [1, 600]")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("COURIER_PUBLIC_URL: %q is not an absolute http(s) URL", c.PublicURL)
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		return errors.New("COURIER_BCRYPT_COST must be within [4, 31]")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return errors.New("COURIER_METRICS_TOKEN must have at least 16 characters")
	}
	if err := (geo.TrackerConfig{Fleet: c.Fleet}).Validate(); c.Fleet == "" || err != nil {
		return fmt.Errorf("COURIER_FLEET: %q must be 1 to 64 letters, digits, '.', '_' or '-'", c.Fleet)
	}
	if (c.AdminLogin == "") != (c.AdminPassword == "") {
		return errors.New("COURIER_ADMIN_LOGIN and COURIER_ADMIN_PASSWORD go together")
	}
	if c.JWTSecret == "" && c.JWTKeyFile == "" && !c.Demo {
		return errors.New("JWT_SECRET is not set: set JWT_SECRET to a random string of at least 32 bytes " +
			"(for example: export JWT_SECRET=$(openssl rand -hex 32)), or JWT_KEY_FILE with JWT_ALGORITHM=RS256|EdDSA, " +
			"or start with --demo to try courierd with demo data")
	}
	return nil
}

// databaseURL is DATABASE_URL, or the SQLite file in the data dir (demo data in its own file,
// so demo logins exist only with --demo).
func (c *Config) databaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	name := "courierd.db"
	if c.Demo {
		name = "demo.db"
	}
	return filepath.Join(c.DataDir, name)
}

// Print writes the settings with secrets masked.
func (c *Config) Print(w io.Writer) {
	fmt.Fprintf(w, "courierd configuration:\n  %-24s %v\n", "demo", c.Demo)
	for _, s := range c.settings() {
		var v string
		switch {
		case s.str != nil:
			v = *s.str
		case s.dur != nil:
			v = s.dur.String()
		case s.num != nil:
			v = strconv.Itoa(*s.num)
		}
		if s.url {
			v = maskURL(v)
		} else if s.secret && v != "" {
			v = "****"
		}
		fmt.Fprintf(w, "  %-24s %s\n", s.env, v)
	}
}

// maskURL hides the password of a URL; a plain file path is shown as is.
func maskURL(v string) string {
	i := strings.Index(v, "://")
	if i < 0 {
		return v
	}
	rest := v[i+3:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if colon := strings.Index(rest[:at], ":"); colon >= 0 {
			return v[:i+3] + rest[:colon] + ":****" + rest[at:]
		}
	}
	return v
}
