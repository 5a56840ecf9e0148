package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/courierhq/courier"
	"github.com/gin-gonic/gin"
)

// Body limits.
const (
	maxBody       = 1 << 20  // 1 MiB for ordinary requests
	maxImportBody = 16 << 20 // 16 MiB for bulk imports
)

// readBody returns the request body, at most limit bytes. Returns ETOOLARGE.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	if b, ok := c.Get(ctxBody); ok {
		return b.([]byte), nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, courier.Errorf(courier.ETOOLARGE, "the request body is over %d bytes", limit)
	} else if err != nil {
		return nil, errBody("", "cannot read the request body")
	}
	c.Set(ctxBody, b)
	return b, nil
}

// decode reads the JSON body into v strictly: a body not sent as JSON,
// unknown fields, duplicate keys, NUL characters, over-long strings,
// trailing data, wrong types and malformed JSON are EBADREQUEST naming the
// field where known.
func decode(c *gin.Context, v any) error {
	if !isJSON(c.GetHeader("Content-Type")) {
		return errBody("Content-Type", "the body must be JSON sent with Content-Type: application/json")
	}
	b, err := readBody(c, maxBody)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

// isJSON reports whether a Content-Type names JSON (application/json or a
// +json type such as application/geo+json).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// maxText is the longest string any JSON field may hold; fields have their
// own, smaller limits where they matter.
const maxText = 10000

// checkJSON walks a JSON document for what encoding/json lets through:
// duplicate keys (it keeps the last), NUL characters and strings over
// maxText characters. Malformed JSON is left to the decoder.
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	type level struct {
		keys   map[string]bool // nil in an array
		path   string
		expect bool // the next string token in this object is a key
		key    string
	}
	var stack []*level
	path := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.keys == nil {
			return top.path
		}
		if top.path == "" {
			return top.key
		}
		return top.path + "." + top.key
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error the decoder reports
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.keys != nil && top.expect {
			if top.keys[s] {
				f := s
				if top.path != "" {
					f = top.path + "." + s
				}
				return errBody(f, "the key %q appears twice in one object", s)
			}
			top.keys[s], top.key, top.expect = true, s, false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &level{keys: map[string]bool{}, path: path(), expect: true})
			case '[':
				stack = append(stack, &level{path: path()})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if strings.IndexByte(t, 0) >= 0 {
				return errBody(path(), "text must not contain NUL characters")
			}
			if utf8.RuneCountInString(t) > maxText {
				return errBody(path(), "text must be at most %d characters", maxText)
			}
		}
		if top != nil && top.keys != nil && !top.expect {
			if d, ok := tok.(json.Delim); !ok || d == '{' || d == '[' {
				top.expect = true // the value of the key is read (or opened)
			}
		}
	}
}

func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errBody("", "the request body is empty; JSON expected")
	}
	if err := checkJSON(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errBody("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns an encoding/json error into a client error naming the field.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *fieldErr
	var te *time.ParseError
	switch {
	case errors.As(err, &te), strings.Contains(err.Error(), "Time.UnmarshalJSON"):
		return errBody("", "a time must be written as RFC 3339, e.g. 2026-11-23T10:00:00+03:00")
	case errors.As(err, &fe):
		return fe.err
	case errors.As(err, &syn):
		return errBody("", "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errBody("", "the body must be %s in JSON", jsonKind(typ.Type.Kind().String()))
		}
		return errBody(field, "%s: must be %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errBody("", "malformed JSON: unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return errBody(name, "unknown field %q", name)
	}
	return errBody("", "the body is not valid JSON for this request")
}

func jsonKind(k string) string {
	switch k {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + k
}

// fieldErr carries a client error out of a custom UnmarshalJSON.
type fieldErr struct{ err error }

func (f *fieldErr) Error() string { return f.err.Error() }

// optional is a JSON field that may be absent, null, or a value: PATCH uses
// null to clear. Nested objects are decoded strictly too.
type optional[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.V)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pathID reads an integer id from the path. Returns ENOTFOUND for anything else.
func pathID(c *gin.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, courier.Errorf(courier.ENOTFOUND, "%s %q not found", name, c.Param(name))
	}
	return id, nil
}

// queryInt reads an optional integer query parameter. Returns EINVALID.
func queryInt(c *gin.Context, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, courier.FieldError(name, "must be a non-negative integer")
	}
	return n, nil
}
