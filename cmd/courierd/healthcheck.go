package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheck is `courierd healthcheck [URL]`: it asks a running courierd
// whether it is ready (GET /readyz) and exits 0 when it answers 200, 1
// otherwise. The container image has no curl, wget or bash (dash has no
// /dev/tcp), so the compose healthcheck runs courierd itself. Without a URL
// it asks this container's own COURIER_ADDR (default :8080) on loopback.
func healthcheck(args []string, getenv func(string) string, out io.Writer) int {
	url := ""
	if len(args) > 0 {
		url = args[0]
	} else {
		addr := getenv("COURIER_ADDR")
		if addr == "" {
			addr = ":8080"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			fmt.Fprintf(out, "healthcheck: COURIER_ADDR %q: %v\n", addr, err)
			return 1
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		url = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(out, "healthcheck: %v\n", err)
		return 1
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(out, "healthcheck: %s: %v\n", url, err)
		return 1
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	fmt.Fprintf(out, "healthcheck: %s: %d %s\n", url, res.StatusCode, strings.TrimSpace(string(body)))
	if res.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
