package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"
)

// ConsoleConfig is how the web console (web/) is served at /console/. The
// console is plain ES modules read from disk at run time, plus Leaflet's dist
// from web/node_modules, which scripts/web.sh installs with npm; nothing of it
// is embedded, so a checkout without `npm ci` answers a page saying so.
type ConsoleConfig struct {
	// Dir is the web/ folder: index.html, src/ and node_modules/leaflet/dist.
	// Empty means "web" in the working directory.
	Dir string
	// TileURL is the map's tile layer ({z}/{x}/{y}, optional {s}); empty draws
	// the map on a plain background (zones, orders and routes still show).
	TileURL string
	// TimeZone, Currency and Language are the company's: the console shows
	// times in that zone and money in that currency.
	TimeZone, Currency, Language string
	// Company is the company name shown in the header.
	Company string
	// Date (YYYY-MM-DD) is the day the dispatcher's map opens on; empty
	// means today in the company time zone. The demo sets its own day.
	Date string
}

// consoleConfigJSON is GET /console/config.json: what the page needs from
// courierd's configuration. It is public (the login page uses it) and holds
// nothing secret.
type consoleConfigJSON struct {
	TileURL  string `json:"tile_url"`
	TimeZone string `json:"time_zone"`
	Currency string `json:"currency"`
	Language string `json:"language"`
	Company  string `json:"company"`
	// StaleAfterS is how old a position may be before the map greys it.
	StaleAfterS int `json:"stale_after_s"`
	// Date is the day the map opens on (absent: today).
	Date string `json:"date,omitempty"`
}

// consoleLeaflet is where Leaflet's dist lives under the console's folder;
// consoleUPlot uPlot's (the reports' charts).
const (
	consoleLeaflet = "node_modules/leaflet/dist"
	consoleUPlot   = "node_modules/uplot/dist"
)

// mountConsole registers /console/ (the console's files and config.json) and
// sends / there. These are not API routes: they are left out of the route
// table that the OpenAPI contract test compares with the spec.
func (s *Server) mountConsole(e *gin.Engine, cfg ConsoleConfig) {
	if cfg.Dir == "" {
		cfg.Dir = "web"
	}
	redirect := func(c *gin.Context) { c.Redirect(http.StatusFound, "/console/") }
	e.GET("/", redirect)
	e.GET("/console", redirect)
	serve := func(c *gin.Context) { s.serveConsole(c, cfg) }
	e.GET("/console/*file", serve)
	e.HEAD("/console/*file", serve)
	s.mountApp(e, cfg)
}

// mountApp registers /app/, the courier app (web/app and the shared
// modules of web/src): an installable offline-first web app for the phone.
// It shares the console's configuration (config.json), file serving and
// Content-Security-Policy.
func (s *Server) mountApp(e *gin.Engine, cfg ConsoleConfig) {
	e.GET("/app", func(c *gin.Context) { c.Redirect(http.StatusFound, "/app/") })
	serve := func(c *gin.Context) { s.serveApp(c, cfg) }
	e.GET("/app/*file", serve)
	e.HEAD("/app/*file", serve)
}

func (s *Server) serveApp(c *gin.Context, cfg ConsoleConfig) {
	file := path.Clean("/" + c.Param("file"))
	h := c.Writer.Header()
	staticHeaders(h)
	appDir := filepath.Join(cfg.Dir, "app")
	switch {
	case file == "/config.json":
		c.JSON(http.StatusOK, consoleConfig(cfg))
		return
	case file == "/" || file == "/index.html":
		if missing := appMissing(cfg.Dir); missing != "" {
			s.log.Warn("courier app files missing", "missing", filepath.Join(cfg.Dir, filepath.FromSlash(missing)))
			consoleNotInstalled(c, missing)
			return
		}
		// No tile server: the app draws no map, so images come from here only.
		h.Set("Content-Security-Policy", consoleCSP(""))
		h.Set("X-Frame-Options", "DENY")
		c.File(filepath.Join(appDir, "index.html"))
		return
	case file == "/sw.js":
		serveWorker(c, cfg.Dir)
		return
	case file == "/manifest.webmanifest":
		h.Set("Content-Type", "application/manifest+json")
		serveUnder(c, appDir, file)
		return
	case strings.HasPrefix(file, "/src/"):
		serveUnder(c, cfg.Dir, file)
		return
	case strings.Count(file, "/") == 1 && (strings.HasSuffix(file, ".css") || strings.HasSuffix(file, ".svg") || strings.HasSuffix(file, ".png")):
		serveUnder(c, appDir, file)
		return
	}
	c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404: no such app file\n"))
}

// serveWorker serves the app's service worker with its version filled in:
// a digest of the app's files (names, sizes, times), so that any change to
// them makes a new worker, which caches the new files as one set. The
// browser checks the worker on every start (no-cache), so a phone gets a
// new version the first time it is online.
func serveWorker(c *gin.Context, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "app", "sw.js"))
	if err != nil {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404: no such app file\n"))
		return
	}
	h := sha256.New()
	for _, sub := range []string{"app", "src"} {
		_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(h, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
			}
			return nil
		})
	}
	version := hex.EncodeToString(h.Sum(nil))[:16]
	b = bytes.Replace(b, []byte("__APP_VERSION__"), []byte(version), 1)
	c.Header("Content-Security-Policy", consoleCSP(""))
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// appMissing names the first file the courier app needs that is not there, or "".
func appMissing(dir string) string {
	for _, f := range []string{"app/index.html", "app/sw.js", "src/courier/main.js"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			return f // inside the web folder: never the server's own paths
		}
	}
	return ""
}

// consoleConfig is config.json of the console and of the courier app.
func consoleConfig(cfg ConsoleConfig) consoleConfigJSON {
	return consoleConfigJSON{TileURL: cfg.TileURL, TimeZone: cfg.TimeZone, Currency: cfg.Currency,
		Language: cfg.Language, Company: cfg.Company, StaleAfterS: 300, Date: cfg.Date}
}

func (s *Server) serveConsole(c *gin.Context, cfg ConsoleConfig) {
	file := path.Clean("/" + c.Param("file"))
	h := c.Writer.Header()
	staticHeaders(h)
	switch {
	case file == "/config.json":
		c.JSON(http.StatusOK, consoleConfig(cfg))
		return
	case file == "/" || file == "/index.html":
		if missing := consoleMissing(cfg.Dir); missing != "" {
			s.log.Warn("console files missing: run scripts/web.sh", "missing", filepath.Join(cfg.Dir, filepath.FromSlash(missing)))
			consoleNotInstalled(c, missing)
			return
		}
		h.Set("Content-Security-Policy", consoleCSP(cfg.TileURL))
		h.Set("X-Frame-Options", "DENY")
		c.File(filepath.Join(cfg.Dir, "index.html"))
		return
	case strings.HasPrefix(file, "/src/"), file == "/favicon.svg":
		serveUnder(c, cfg.Dir, file)
		return
	case strings.HasPrefix(file, "/vendor/leaflet/"):
		serveUnder(c, filepath.Join(cfg.Dir, filepath.FromSlash(consoleLeaflet)), strings.TrimPrefix(file, "/vendor/leaflet"))
		return
	case strings.HasPrefix(file, "/vendor/uplot/"):
		serveUnder(c, filepath.Join(cfg.Dir, filepath.FromSlash(consoleUPlot)), strings.TrimPrefix(file, "/vendor/uplot"))
		return
	}
	c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404: no such console file\n"))
}

// serveUnder serves the cleaned path file from the folder dir; http.Dir
// refuses anything outside it. Folders are not listed.
func serveUnder(c *gin.Context, dir, file string) {
	f, err := http.Dir(dir).Open(file)
	if err != nil {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404: no such console file\n"))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404: no such console file\n"))
		return
	}
	if strings.HasSuffix(file, ".js") || strings.HasSuffix(file, ".mjs") {
		c.Header("Content-Type", "text/javascript; charset=utf-8")
	}
	http.ServeContent(c.Writer, c.Request, st.Name(), st.ModTime(), f)
}

// consoleMissing names the first file the console needs that is not there
// (its path inside the console's folder), or "".
func consoleMissing(dir string) string {
	for _, f := range []string{"index.html", "src/app.js", consoleLeaflet + "/leaflet.js", consoleLeaflet + "/leaflet.css"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			return f
		}
	}
	return ""
}

// consoleNotInstalled answers 503 with a page that says how to install the
// console. It names the missing file inside the console's folder, never the
// server's own paths (the log has those).
func consoleNotInstalled(c *gin.Context, missing string) {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Console not installed</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>The console is not installed</h1>
<p>courierd serves the console from its folder (COURIER_WEB_DIR), but <code>` + html.EscapeString(missing) + `</code>
is missing there.</p>
<p>Install its npm packages with <code>scripts/web.sh</code> (it runs <code>npm ci</code> in <code>web/</code>),
or start the demo with <code>scripts/run.sh</code>, which does that first. The JSON API under /api/v1 works without it.</p>
</body></html>`
	c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", []byte(page))
}

// consoleCSP allows only this origin, plus the tile server's for images.
func consoleCSP(tileURL string) string {
	img := "'self' data: blob:"
	if origin := tileOrigin(tileURL); origin != "" {
		img += " " + origin
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src " + img +
		"; connect-src 'self'; object-src 'none'; frame-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// tileOrigin is the scheme and host of a tile URL template, "{s}." made a wildcard.
func tileOrigin(tileURL string) string {
	scheme, rest, ok := strings.Cut(tileURL, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	host = strings.ReplaceAll(host, "{s}", "*")
	if host == "" || strings.ContainsAny(host, "{}; '\"") {
		return ""
	}
	return scheme + "://" + host
}

// staticHeaders are the headers of every file the console and the app serve:
// no type sniffing, no referrer off the site, revalidated on each load.
func staticHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
}
