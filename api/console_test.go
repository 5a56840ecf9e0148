package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courierhq/courier/api"
)

// consoleDir makes a web/ folder with the files the console needs.
func consoleDir(t *testing.T, withLeaflet bool) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":      "<!doctype html><title>console</title>",
		"src/app.js":      "export const x = 1;",
		"src/style.css":   "body{}",
		"favicon.svg":     "<svg/>",
		"secret.txt":      "not served",
		"package.json":    "{}",
		"src/sub/deep.js": "export {};",
	}
	if withLeaflet {
		files["node_modules/leaflet/dist/leaflet.js"] = "window.L = {};"
		files["node_modules/leaflet/dist/leaflet.css"] = ".leaflet-container{}"
		files["node_modules/leaflet/package.json"] = "{}"
		files["node_modules/uplot/dist/uPlot.esm.js"] = "export default function uPlot() {}"
		files["node_modules/uplot/dist/uPlot.min.css"] = ".uplot{}"
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func consoleGet(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestConsoleServesFiles(t *testing.T) {
	dir := consoleDir(t, true)
	srv := api.New(api.Deps{Console: api.ConsoleConfig{Dir: dir, TileURL: "https://{s}.tile.example.org/{z}/{x}/{y}.png",
		TimeZone: "Europe/Moscow", Currency: "RUB", Language: "ru", Company: "Courier & Co"}})
	h := srv.Handler()

	for _, test := range []struct {
		path, location string
	}{
		{"/", "/console/"},
		{"/console", "/console/"},
	} {
		res, _ := consoleGet(t, h, test.path)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != test.location {
			t.Errorf("GET %s = %d to %q, want 302 to %q", test.path, res.StatusCode, res.Header.Get("Location"), test.location)
		}
	}

	res, body := consoleGet(t, h, "/console/")
	if res.StatusCode != 200 || !strings.Contains(body, "<title>console</title>") {
		t.Fatalf("GET /console/ = %d %q", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "img-src 'self' data: blob: https://*.tile.example.org") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}

	res, body = consoleGet(t, h, "/console/config.json")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || res.StatusCode != 200 {
		t.Fatalf("config.json = %d %q", res.StatusCode, body)
	}
	if cfg["time_zone"] != "Europe/Moscow" || cfg["currency"] != "RUB" || cfg["language"] != "ru" || cfg["company"] != "Courier & Co" ||
		cfg["tile_url"] != "https://{s}.tile.example.org/{z}/{x}/{y}.png" || cfg["stale_after_s"] != float64(300) {
		t.Errorf("config.json = %v", cfg)
	}

	for _, test := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/console/src/app.js", 200, "text/javascript"},
		{"/console/src/sub/deep.js", 200, "text/javascript"},
		{"/console/src/style.css", 200, "text/css"},
		{"/console/favicon.svg", 200, "image/svg+xml"},
		{"/console/vendor/leaflet/leaflet.js", 200, "text/javascript"},
		{"/console/vendor/leaflet/leaflet.css", 200, "text/css"},
		{"/console/vendor/uplot/uPlot.esm.js", 200, "text/javascript"},
		{"/console/vendor/uplot/uPlot.min.css", 200, "text/css"},
		{"/console/vendor/uplot/../../leaflet/package.json", 404, ""},
		{"/console/secret.txt", 404, ""},
		{"/console/package.json", 404, ""},
		{"/console/src/", 404, ""},
		{"/console/src/missing.js", 404, ""},
		{"/console/src/../secret.txt", 404, ""},
		{"/console/src/%2e%2e/secret.txt", 404, ""},
		{"/console/vendor/leaflet/../package.json", 404, ""},
		{"/console/vendor/leaflet/../../leaflet/package.json", 404, ""},
		{"/console/node_modules/leaflet/dist/leaflet.js", 404, ""},
	} {
		res, _ := consoleGet(t, h, test.path)
		if res.StatusCode != test.status || !strings.HasPrefix(res.Header.Get("Content-Type"), test.ctype) {
			t.Errorf("GET %s = %d %q, want %d %q", test.path, res.StatusCode, res.Header.Get("Content-Type"), test.status, test.ctype)
		}
	}

	// The API routes are untouched: an unknown API path is still the JSON 404.
	res, body = consoleGet(t, h, "/api/v1/nothing")
	if res.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
		t.Errorf("GET /api/v1/nothing = %d %s", res.StatusCode, body)
	}
}

func TestConsoleNotInstalled(t *testing.T) {
	dir := consoleDir(t, false)
	h := api.New(api.Deps{Console: api.ConsoleConfig{Dir: dir}}).Handler()
	res, body := consoleGet(t, h, "/console/")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "scripts/web.sh") || !strings.Contains(body, "leaflet.js") {
		t.Errorf("console without npm packages = %d %s", res.StatusCode, body)
	}
	// config.json does not need the files.
	if res, _ := consoleGet(t, h, "/console/config.json"); res.StatusCode != 200 {
		t.Errorf("config.json = %d", res.StatusCode)
	}
	if strings.Contains(body, dir) {
		t.Errorf("the page shows the server's path %s: %s", dir, body)
	}
	// No folder at all: the same page, naming the missing file, not the folder.
	h = api.New(api.Deps{Console: api.ConsoleConfig{Dir: filepath.Join(dir, "nowhere")}}).Handler()
	if res, body := consoleGet(t, h, "/console/"); res.StatusCode != 503 || !strings.Contains(body, "index.html") || strings.Contains(body, "nowhere") ||
		strings.Contains(body, dir) {
		t.Errorf("console without a folder = %d %s", res.StatusCode, body)
	}
}

// TestConsoleSources checks the real web/ folder: the page loads only our
// modules and Leaflet from this origin (no CDN), and every module it imports exists.
func TestConsoleSources(t *testing.T) {
	web := filepath.Join("..", "web")
	index, err := os.ReadFile(filepath.Join(web, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(index), "//") && strings.Contains(string(index), "http") {
		t.Errorf("index.html refers to another origin:\n%s", index)
	}
	checkModules(t, filepath.Join(web, "src", "*.js"), false, "openstreetmap.org/copyright")
}

// TestAppServesFiles: the courier app at /app/, its shell, the shared
// modules, the service worker with its version, the manifest, config.json,
// the same strict Content-Security-Policy, and nothing else of the folder.
func TestAppServesFiles(t *testing.T) {
	dir := consoleDir(t, true)
	for name, body := range map[string]string{
		"app/index.html":           "<!doctype html><title>courier app</title>",
		"app/sw.js":                "const VERSION = '__APP_VERSION__';",
		"app/app.css":              "body{}",
		"app/icon.svg":             "<svg/>",
		"app/icon-192.png":         "\x89PNG\r\n\x1a\n",
		"app/manifest.webmanifest": `{"name":"Courier"}`,
		"app/notes.txt":            "not served",
		"src/courier/main.js":      "export {};",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := api.New(api.Deps{Console: api.ConsoleConfig{Dir: dir, TileURL: "https://{s}.tile.example.org/{z}/{x}/{y}.png",
		TimeZone: "Europe/Moscow", Currency: "RUB", Language: "ru", Company: "Courier & Co", Date: "2026-12-04"}}).Handler()

	if res, _ := consoleGet(t, h, "/app"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/app/" {
		t.Errorf("GET /app = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := consoleGet(t, h, "/app/")
	if res.StatusCode != 200 || !strings.Contains(body, "<title>courier app</title>") {
		t.Fatalf("GET /app/ = %d %q", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "connect-src 'self'", "img-src 'self' data: blob:;", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "tile.example.org") {
		t.Errorf("the app draws no map, its CSP allows no tile server: %q", csp)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("headers: %v", res.Header)
	}

	var cfg map[string]any
	res, body = consoleGet(t, h, "/app/config.json")
	if err := json.Unmarshal([]byte(body), &cfg); err != nil || res.StatusCode != 200 || cfg["time_zone"] != "Europe/Moscow" ||
		cfg["currency"] != "RUB" || cfg["date"] != "2026-12-04" {
		t.Errorf("config.json = %d %s", res.StatusCode, body)
	}

	// The service worker carries a version made of the files: a change makes a new one.
	version := func() string {
		res, body := consoleGet(t, h, "/app/sw.js")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") || strings.Contains(body, "__APP_VERSION__") {
			t.Fatalf("sw.js = %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		return body
	}
	v1 := version()
	if v1 != version() {
		t.Errorf("the version changes with nothing changed")
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "courier", "main.js"), []byte("export const changed = true;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v2 := version(); v2 == v1 {
		t.Errorf("a changed module keeps the version %s", v2)
	}

	for _, test := range []struct {
		path   string
		status int
		ctype  string
	}{
		{"/app/index.html", 301, ""}, // http.ServeFile sends it to /app/
		{"/app/app.css", 200, "text/css"},
		{"/app/icon.svg", 200, "image/svg+xml"},
		{"/app/icon-192.png", 200, "image/png"},
		{"/app/manifest.webmanifest", 200, "application/manifest+json"},
		{"/app/src/courier/main.js", 200, "text/javascript"},
		{"/app/src/app.js", 200, "text/javascript"},
		{"/app/src/style.css", 200, "text/css"},
		{"/app/notes.txt", 404, ""},
		{"/app/secret.txt", 404, ""},
		{"/app/../secret.txt", 404, ""},
		{"/app/src/../secret.txt", 404, ""},
		{"/app/src/%2e%2e/package.json", 404, ""},
		{"/app/app/index.html", 404, ""},
		{"/app/src/", 404, ""},
		{"/app/vendor/leaflet/leaflet.js", 404, ""},
	} {
		res, _ := consoleGet(t, h, test.path)
		if res.StatusCode != test.status || !strings.HasPrefix(res.Header.Get("Content-Type"), test.ctype) {
			t.Errorf("GET %s = %d %q, want %d %q", test.path, res.StatusCode, res.Header.Get("Content-Type"), test.status, test.ctype)
		}
	}

	// Without the app's files: the page that says so.
	if err := os.Remove(filepath.Join(dir, "app", "sw.js")); err != nil {
		t.Fatal(err)
	}
	// The page names the file inside the web folder, never the server's path.
	if res, body := consoleGet(t, h, "/app/"); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "app/sw.js") || strings.Contains(body, dir) {
		t.Errorf("app without its files = %d %s", res.StatusCode, body)
	}
}

// TestAppSources checks the real courier app: its modules import only our
// own relative modules that exist, and refer to no other origin (but Apple
// Maps' link for iPhones, which opens the phone's map app).
func TestAppSources(t *testing.T) {
	web := filepath.Join("..", "web")
	checkModules(t, filepath.Join(web, "src", "courier", "*.js"), true, "https://maps.apple.com/")
	for _, f := range []string{"index.html", "sw.js", "manifest.webmanifest", "app.css", "icon.svg", "icon-192.png", "icon-512.png"} {
		if _, err := os.Stat(filepath.Join(web, "app", f)); err != nil {
			t.Errorf("web/app/%s: %v", f, err)
		}
	}
}

// checkModules checks the ES modules matching glob: each imports only
// relative modules that exist (from its own folder, or its parent's when up),
// and names no other origin but one containing allowedURL.
func checkModules(t *testing.T, glob string, up bool, allowedURL string) {
	t.Helper()
	srcs, err := filepath.Glob(glob)
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no sources %s: %v", glob, err)
	}
	for _, f := range srcs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if i := strings.Index(line, "from '"); strings.HasPrefix(line, "import") && i >= 0 {
				mod := strings.TrimSuffix(line[i+6:], "';")
				if !strings.HasPrefix(mod, "./") && !(up && strings.HasPrefix(mod, "../")) {
					t.Errorf("%s imports %q: only relative modules of web/src", f, mod)
					continue
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(f), mod)); err != nil {
					t.Errorf("%s imports %q, which does not exist", f, mod)
				}
			}
			if strings.Contains(line, "https://") && !strings.Contains(line, allowedURL) {
				t.Errorf("%s refers to another origin: %s", f, line)
			}
		}
	}
}
