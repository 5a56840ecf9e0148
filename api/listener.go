package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// JSONErrors wraps the server's listener so that the few answers net/http
// writes by itself, before any handler runs (a header with a NUL or another
// control character, a malformed request line, headers too large), come in
// the API's JSON error shape too instead of plain text. net/http writes each
// of them in one Write of a fixed form, which no handler's answer has (those
// carry a Date header).
func JSONErrors(ln net.Listener) net.Listener { return jsonErrorListener{ln} }

type jsonErrorListener struct{ net.Listener }

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c}, nil
}

type jsonErrorConn struct{ net.Conn }

// plainErrorHeaders is how net/http's own error answers end their headers.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

func (c *jsonErrorConn) Write(b []byte) (int, error) {
	status, ok := plainError(b)
	if !ok {
		return c.Conn.Write(b)
	}
	body, _ := json.Marshal(errorBody{Error: errorJSON{Code: "bad_request",
		Message: "the HTTP request is malformed (a header with a control character, a bad request line, or headers too large)",
		Details: map[string]any{}}})
	if status == http.StatusRequestHeaderFieldsTooLarge {
		body, _ = json.Marshal(errorBody{Error: errorJSON{Code: "too_large", Message: "the request headers are too large", Details: map[string]any{}}})
	}
	out := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	if _, err := c.Conn.Write([]byte(out)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// plainError recognises a 4xx answer net/http wrote by itself and returns its status.
func plainError(b []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(b, []byte("HTTP/1.1 4"))
	if !ok || len(rest) < 2 {
		return 0, false
	}
	line, _, ok := bytes.Cut(b, []byte("\r\n"))
	if !ok || !bytes.Contains(b, []byte(plainErrorHeaders)) || bytes.Contains(b, []byte("\r\nDate:")) {
		return 0, false
	}
	code, err := strconv.Atoi(string(line[len("HTTP/1.1 ") : len("HTTP/1.1 ")+3]))
	if err != nil {
		return 0, false
	}
	return code, true
}
