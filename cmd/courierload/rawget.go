package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// rawGets sends GETs on keep-alive HTTP/1.1 connections of its own, one per
// worker (worker i talks to target i mod n, so the replicas get equal
// shares), written and read by hand: the request line and headers, then the
// status, the headers and a body of Content-Length or chunks. It costs the
// tool a fraction of net/http's client, CPU the server it measures shares;
// the server sees the same requests. A connection that fails is closed and
// dialled again by the next request. On Linux the connections are read
// with the kernel's receive timestamps, so an answer says when it arrived,
// not only when the tool got round to reading it.
type rawGets struct {
	targets []string
	mu      sync.Mutex
	conns   map[int]*rawConn
}

type rawConn struct {
	host  string
	c     net.Conn
	stamp *stampReader // nil: no kernel timestamps
	rd    *bufio.Reader
	req   []byte
	body  []byte
}

func newRawGets(targets []string) *rawGets {
	return &rawGets{targets: targets, conns: map[int]*rawConn{}}
}

func (r *rawGets) conn(ctx context.Context, worker int) (*rawConn, error) {
	r.mu.Lock()
	rc := r.conns[worker]
	r.mu.Unlock()
	if rc != nil && rc.c != nil {
		return rc, nil
	}
	u, err := url.Parse(r.targets[worker%len(r.targets)])
	if err != nil {
		return nil, err
	}
	c, err := loopbackDialer().DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	rc = &rawConn{host: u.Host, c: c}
	var rd io.Reader = c
	if rc.stamp = newStampReader(c); rc.stamp != nil {
		rd = rc.stamp
	}
	rc.rd = bufio.NewReaderSize(rd, 16<<10)
	r.mu.Lock()
	r.conns[worker] = rc
	r.mu.Unlock()
	return rc, nil
}

// get sends GET path with the bearer token on worker's connection and reads
// the whole answer (the body is valid until the worker's next get).
func (r *rawGets) get(ctx context.Context, worker int, path, token string) (answer, error) {
	rc, err := r.conn(ctx, worker)
	if err != nil {
		return answer{}, err
	}
	a, err := rc.roundTrip(path, token)
	if err != nil {
		rc.c.Close()
		rc.c = nil
	}
	return a, err
}

func (rc *rawConn) roundTrip(path, token string) (answer, error) {
	if err := rc.c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return answer{}, err
	}
	rc.req = append(rc.req[:0], "GET "...)
	rc.req = append(rc.req, path...)
	rc.req = append(rc.req, " HTTP/1.1\r\nHost: "...)
	rc.req = append(rc.req, rc.host...)
	rc.req = append(rc.req, "\r\nAuthorization: Bearer "...)
	rc.req = append(rc.req, token...)
	rc.req = append(rc.req, "\r\nUser-Agent: courierload\r\n\r\n"...)
	if rc.stamp != nil {
		rc.stamp.last = time.Time{}
	}
	if _, err := rc.c.Write(rc.req); err != nil {
		return answer{}, err
	}
	line, err := rc.line()
	if err != nil {
		return answer{}, err
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return answer{}, fmt.Errorf("a status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return answer{}, fmt.Errorf("a status line %q", line)
	}
	length, chunked, closing := -1, false, false
	for {
		h, err := rc.line()
		if err != nil {
			return answer{}, err
		}
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return answer{}, fmt.Errorf("a header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return answer{}, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	rc.body = rc.body[:0]
	switch {
	case chunked:
		for {
			sz, err := rc.line()
			if err != nil {
				return answer{}, err
			}
			sz, _, _ = bytes.Cut(sz, []byte(";"))
			n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 32)
			if err != nil || n < 0 {
				return answer{}, fmt.Errorf("a chunk size %q", sz)
			}
			if n == 0 {
				for { // trailers, then the empty line
					t, err := rc.line()
					if err != nil {
						return answer{}, err
					}
					if len(t) == 0 {
						break
					}
				}
				break
			}
			if rc.body, err = readN(rc.rd, rc.body, int(n)); err != nil {
				return answer{}, err
			}
			if crlf, err := rc.line(); err != nil || len(crlf) != 0 {
				return answer{}, fmt.Errorf("a chunk not ended by CRLF: %v", err)
			}
		}
	case length >= 0:
		if rc.body, err = readN(rc.rd, rc.body, length); err != nil {
			return answer{}, err
		}
	default:
		return answer{}, errors.New("an answer with neither Content-Length nor chunks")
	}
	a := answer{Status: status, Body: rc.body}
	if rc.stamp != nil && rc.rd.Buffered() == 0 {
		a.Arrived = rc.stamp.last // the last read brought the answer's end
	}
	if closing {
		return a, errors.New("the server closes the connection")
	}
	return a, nil
}

// line reads a CRLF-ended line without its end.
func (rc *rawConn) line() ([]byte, error) {
	l, err := rc.rd.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(l) < 2 || l[len(l)-2] != '\r' {
		return nil, fmt.Errorf("a line not ended by CRLF: %q", l)
	}
	return l[:len(l)-2], nil
}

func readN(rd io.Reader, b []byte, n int) ([]byte, error) {
	start := len(b)
	b = slices.Grow(b, n)[:start+n]
	_, err := io.ReadFull(rd, b[start:])
	return b, err
}

// close closes every connection.
func (r *rawGets) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rc := range r.conns {
		if rc.c != nil {
			rc.c.Close()
		}
	}
}
