package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHealthcheckCommand: `courierd healthcheck` exits 0 only when /readyz
// answers 200, and finds the server on COURIER_ADDR by itself.
func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			t.Errorf("asked %s", r.URL.Path)
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	port := addr[strings.LastIndex(addr, ":"):]
	env := func(k string) string {
		if k == "COURIER_ADDR" {
			return port // ":PORT", as the image sets ":8080"
		}
		return ""
	}
	var out bytes.Buffer
	if code := healthcheck(nil, env, &out); code != 0 {
		t.Errorf("ready: exit %d (%s)", code, out.String())
	}
	if code := healthcheck([]string{srv.URL + "/readyz"}, env, &out); code != 0 {
		t.Errorf("ready by URL: exit %d", code)
	}
	status = http.StatusServiceUnavailable
	if code := healthcheck(nil, env, &out); code != 1 {
		t.Errorf("not ready: exit %d", code)
	}
	srv.Close()
	if code := healthcheck(nil, env, &out); code != 1 {
		t.Errorf("down: exit %d", code)
	}
}

// TestDockerFiles checks the container setup that no engine here can run:
// the compose healthcheck needs no shell (/dev/tcp is bash's, the image's sh
// is dash), the image carries the console and the fonts and says where,
// .dockerignore keeps the test services, node_modules, data and .git out of
// the build context, and compose mounts the Firebase credentials and sets the
// public URL. scripts/docker-check.sh runs the image's steps on the host.
func TestDockerFiles(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dockerfile, compose, ignore := read("Dockerfile"), read("docker-compose.yml"), read(".dockerignore")
	for _, want := range []string{
		"fonts-dejavu-core",
		"COPY --from=web /web/src /usr/share/courierd/web/src",
		"COPY --from=web /web/node_modules/leaflet/dist /usr/share/courierd/web/node_modules/leaflet/dist",
		"COPY --from=web /web/node_modules/uplot/dist /usr/share/courierd/web/node_modules/uplot/dist",
		"COPY --from=web /web/app /usr/share/courierd/web/app",
		"COURIER_WEB_DIR=/usr/share/courierd/web",
		"COURIER_FONT_DIR=/usr/share/fonts/truetype/dejavu",
		`HEALTHCHECK --interval=10s --timeout=5s --retries=5 CMD ["/usr/local/bin/courierd", "healthcheck"]`,
	} {
		if !strings.Contains(dockerfile, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Contains(compose, "/dev/tcp") || !strings.Contains(compose, `test: ["CMD", "/usr/local/bin/courierd", "healthcheck"]`) {
		t.Error("the compose healthcheck must run courierd healthcheck, not a shell")
	}
	for _, want := range []string{
		"- ${FIREBASE_CREDENTIALS_FILE:-/dev/null}:/run/secrets/firebase.json:ro",
		"FIREBASE_CREDENTIALS: ${FIREBASE_CREDENTIALS_FILE:+/run/secrets/firebase.json}",
		"COURIER_PUBLIC_URL: ${COURIER_PUBLIC_URL:?",
		"REDIS_URL: redis://:${REDIS_PASSWORD:?",
		"--requirepass",
	} {
		if !strings.Contains(compose, want) {
			t.Errorf("docker-compose.yml lacks %q", want)
		}
	}
	lines := regexp.MustCompile(`(?m)^\S+$`).FindAllString(ignore, -1)
	for _, want := range []string{".git", ".cache", "data", "web/node_modules", "test-artifacts", "bin"} {
		found := false
		for _, l := range lines {
			found = found || l == want
		}
		if !found {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
