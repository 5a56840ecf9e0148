package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// client sends requests to the targets in turn (a load balancer's round
// robin): every courierd replica gets its share.
type client struct {
	targets []string
	next    atomic.Uint64
	http    *http.Client
	raw     *rawGets // the GETs phases send as fast as they can
}

func newClient(targets []string, conns int) *client {
	tr := &http.Transport{
		DialContext:         loopbackDialer().DialContext,
		MaxIdleConns:        4 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{targets: targets, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, raw: newRawGets(targets)}
}

// base returns the next target.
func (c *client) base() string {
	return c.targets[int(c.next.Add(1)-1)%len(c.targets)]
}

// answer is a response: status and body.
type answer struct {
	Status int
	Body   []byte
	// Arrived is when the kernel received the answer's last bytes (rawGets
	// on Linux); zero when not known.
	Arrived time.Time
}

func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("decode %.200s: %w", a.Body, err)
	}
	return nil
}

// do sends one request with a JSON body (nil: none) and reads the whole answer.
func (c *client) do(ctx context.Context, method, path, token string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(body)
			if err != nil {
				return answer{}, err
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{Status: res.StatusCode, Body: b}, err
}

// must is do that wants one of the statuses.
func (c *client) must(ctx context.Context, method, path, token string, body any, want ...int) (answer, error) {
	a, err := c.do(ctx, method, path, token, body)
	if err != nil {
		return a, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, w := range want {
		if a.Status == w {
			return a, nil
		}
	}
	return a, fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, a.Status, a.Body)
}

// loopbackOnly refuses a URL whose host is not a loopback address (or a
// name that resolves only to loopback addresses): the tool never loads
// another machine.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%s: no host", raw)
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("%s: %w", raw, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s: %s is not a loopback address: courierload only loads this machine", raw, ip)
		}
	}
	return nil
}

// loopbackDialer dials loopback addresses only: a name that resolved to
// loopback when the targets were checked cannot lead elsewhere later.
func loopbackDialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%s is not a loopback address: courierload only loads this machine", address)
			}
			return nil
		}}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimRight(strings.TrimSpace(p), "/"); p != "" {
			out = append(out, p)
		}
	}
	return out
}
