package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
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
// maxText characters. Malformed JSON is left to the decoder: the walk stops
// without an error at the first byte that is not JSON.
//
// It reads the bytes itself rather than through json.Decoder.Token, which
// allocates per token and built a syntax error per value it ended: on a
// batch of 50 GPS pings that walk cost twice the decoding proper
// (FuzzCheckJSON holds it to the same answers as a walk over Token).
func checkJSON(b []byte) error {
	w := jsonWalk{b: b}
	for {
		w.space()
		if w.i >= len(w.b) {
			return nil
		}
		if err := w.value(); err != nil {
			if err == errNotJSON {
				return nil
			}
			return err
		}
	}
}

// errNotJSON stops a walk at bytes that are not JSON.
var errNotJSON = errors.New("not JSON")

// maxDepth is encoding/json's nesting limit: deeper documents do not decode.
const maxDepth = 10000

type jsonWalk struct {
	b     []byte
	i     int
	depth int
	path  [][]byte // the keys from the top to the value being read (arrays add none)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (w *jsonWalk) space() {
	for w.i < len(w.b) && isSpace(w.b[w.i]) {
		w.i++
	}
}

// field is the path of the value being read, as errors name it
// ("cod.method"); an empty key adds nothing to an empty path.
func (w *jsonWalk) field() string {
	var p []byte
	for _, k := range w.path {
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = append(p, k...)
	}
	return string(p)
}

// value walks the value at w.i.
func (w *jsonWalk) value() error {
	w.space()
	if w.i >= len(w.b) {
		return errNotJSON
	}
	switch w.b[w.i] {
	case '{':
		return w.object()
	case '[':
		return w.array()
	case '"':
		s, err := w.str()
		if err != nil {
			return err
		}
		if bytes.IndexByte(s, 0) >= 0 {
			return errBody(w.field(), "text must not contain NUL characters")
		}
		if len(s) > maxText && utf8.RuneCount(s) > maxText {
			return errBody(w.field(), "text must be at most %d characters", maxText)
		}
		return nil
	}
	return w.literal()
}

// maxScanKeys is how many keys an object's duplicate check compares one by
// one; larger objects get a map.
const maxScanKeys = 32

func (w *jsonWalk) object() error {
	if w.depth++; w.depth > maxDepth {
		return errNotJSON
	}
	defer func() { w.depth-- }()
	w.i++ // {
	w.space()
	if w.i < len(w.b) && w.b[w.i] == '}' {
		w.i++
		return nil
	}
	var (
		few  [8][]byte
		keys = few[:0]
		many map[string]bool
	)
	for {
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			return errNotJSON
		}
		k, err := w.str()
		if err != nil {
			return err
		}
		dup := false
		if many != nil {
			dup = many[string(k)]
			many[string(k)] = true
		} else {
			for _, seen := range keys {
				if bytes.Equal(seen, k) {
					dup = true
					break
				}
			}
			if keys = append(keys, k); len(keys) > maxScanKeys {
				many = map[string]bool{}
				for _, seen := range keys {
					many[string(seen)] = true
				}
			}
		}
		w.path = append(w.path, k)
		if dup {
			return errBody(w.field(), "the key %q appears twice in one object", k)
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			return errNotJSON
		}
		w.i++
		if err := w.value(); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		if done, err := w.next('}'); done || err != nil {
			return err
		}
	}
}

// next reads the comma between two members or elements, or the close that
// ends them (done).
func (w *jsonWalk) next(close byte) (done bool, err error) {
	w.space()
	if w.i >= len(w.b) {
		return false, errNotJSON
	}
	switch w.b[w.i] {
	case ',':
		w.i++
		return false, nil
	case close:
		w.i++
		return true, nil
	}
	return false, errNotJSON
}

func (w *jsonWalk) array() error {
	if w.depth++; w.depth > maxDepth {
		return errNotJSON
	}
	defer func() { w.depth-- }()
	w.i++ // [
	w.space()
	if w.i < len(w.b) && w.b[w.i] == ']' {
		w.i++
		return nil
	}
	for {
		if err := w.value(); err != nil {
			return err
		}
		if done, err := w.next(']'); done || err != nil {
			return err
		}
	}
}

// str reads the string at w.i and returns it as encoding/json decodes it
// (escapes resolved, bytes that are not UTF-8 replaced by U+FFFD): a plain
// one is a slice of the body, not a copy.
func (w *jsonWalk) str() ([]byte, error) {
	start := w.i
	plain := true
	for j := w.i + 1; j < len(w.b); j++ {
		switch c := w.b[j]; {
		case c == '"':
			w.i = j + 1
			raw := w.b[start+1 : j]
			if plain && utf8.Valid(raw) {
				return raw, nil
			}
			var s string
			if err := json.Unmarshal(w.b[start:j+1], &s); err != nil {
				return nil, errNotJSON
			}
			return []byte(s), nil
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			return nil, errNotJSON
		}
	}
	return nil, errNotJSON
}

// literal reads true, false, null or a number as JSON writes them.
func (w *jsonWalk) literal() error {
	b, i := w.b, w.i
	for _, lit := range []string{"true", "false", "null"} {
		if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
			w.i = i + len(lit)
			return nil
		}
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return errNotJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return errNotJSON
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return errNotJSON
		}
	}
	w.i = i
	return nil
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
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			typ.Field = jsonPath(reflect.TypeOf(v), typ.Field)
		}
		return jsonError(err)
	}
	if dec.More() {
		return errBody("", "unexpected data after the JSON value")
	}
	return nil
}

// jsonPath is encoding/json's path of a field in t as the client wrote it:
// encoding/json names the Go field of an embedded struct in the path
// ("tariffBody.base_fee"), which the client never sent.
func jsonPath(t reflect.Type, path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, seg), nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous && jsonName(f) == "" {
			t = f.Type // an embedded struct: its fields are the parent's
			continue
		}
		out, t = append(out, seg), fieldTypeByJSON(t, seg)
	}
	return strings.Join(out, ".")
}

// jsonName is the name a struct field's json tag gives it ("" when none).
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// fieldTypeByJSON is the type of t's field named name in JSON, also through
// embedded structs; nil when there is none.
func fieldTypeByJSON(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		if n := jsonName(f); n == name || (n == "" && strings.EqualFold(f.Name, name)) {
			return f.Type
		}
		if f.Anonymous && jsonName(f) == "" {
			e := f.Type
			if e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			if e.Kind() == reflect.Struct {
				if ft := fieldTypeByJSON(e, name); ft != nil {
					return ft
				}
			}
		}
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
