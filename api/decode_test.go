package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/courierhq/courier"
)

// checkJSONTokens is the walk over json.Decoder.Token that checkJSON
// replaced: the reference its answers are held to.
func checkJSONTokens(b []byte) error {
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
			return nil
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
				top.expect = true
			}
		}
	}
}

// describe is an answer of a check as text: "" for none, else the message and field.
func describe(err error) string {
	if err == nil {
		return ""
	}
	return courier.ErrorMessage(err) + " @" + func() string {
		if d := courier.ErrorDetails(err); d != nil {
			f, _ := d["field"].(string)
			return f
		}
		return ""
	}()
}

var checkJSONSeeds = []string{
	`{"pings":[{"lat":55.7,"lng":37.6,"recorded_at":"2026-11-23T10:00:00Z"}]}`,
	`{"a":1,"a":2}`,
	`{"a":{"b":{"c":1,"c":2}}}`,
	`{"pings":[{"lat":1,"lat":2}]}`,
	`{"a":"x\u0000y"}`,
	`{"a":["ok","x\u0000"]}`,
	`"\u0000"`,
	`{"\u0061":1,"a":2}`,
	`{"a\u0000":1}`,
	`{"k":"` + strings.Repeat("я", maxText) + `"}`,
	`{"k":"` + strings.Repeat("я", maxText+1) + `"}`,
	`{"k":"` + strings.Repeat("\\u044f", maxText+1) + `"}`,
	`{"a":1}{"a":1,"a":2}`,
	`{"a":1} {"b":[1,2,{"c":"\u0000"}]}`,
	`1 2 {"a":1,"a":1}`,
	`truefalse{"a":1,"a":1}`,
	`{"a":tru,"a":1}`,
	`{"a":-01,"a":1}`,
	`{"a":1.,"a":1}`,
	`{"a":1e,"a":1}`,
	`{"a":-0.5e+7,"a":1}`,
	`{"a" 1,"a":1}`,
	`{"a":1,,"a":1}`,
	`{"a":1,}`,
	`[1,2,]`,
	`{"a":"\x01","a":1}`,
	"{\"a\":\"\xff\",\"\xfe\":1,\"\xfd\":2}",
	`{"a":"\ud800","b":"\ud800"}`,
	`{"a":"\q","a":1}`,
	`[{"a":1},{"a":1}]`,
	`{"a":[],"b":{},"a":null}`,
	"\t{\n\"a\"\r:\n1 , \"a\" : 2}",
	`{"a":1}x{"a":1,"a":1}`,
	`nul`,
	``,
	`{`,
	`{"a":"unterminated`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,"a":1}`,
}

// TestCheckJSON: what the strict decoder refuses beyond encoding/json, with the field named.
func TestCheckJSON(t *testing.T) {
	for _, test := range []struct {
		in, want string
	}{
		{`{"pings":[{"lat":55.7,"lng":37.6}]}`, ""},
		{`{"a":1,"a":2}`, `the key "a" appears twice in one object @a`},
		{`{"pings":[{"lat":1,"lat":2}]}`, `the key "lat" appears twice in one object @pings.lat`},
		{`{"a":{"b":{"c":1,"c":2}}}`, `the key "c" appears twice in one object @a.b.c`},
		{`{"\u0061":1,"a":2}`, `the key "a" appears twice in one object @a`},
		{`{"customer":{"name":"Anna\u0000"}}`, `text must not contain NUL characters @customer.name`},
		{`{"k":"` + strings.Repeat("я", maxText+1) + `"}`, `text must be at most 10000 characters @k`},
		{`{"a":1,"a":tru`, `the key "a" appears twice in one object @a`},
		{`{"a":tru,"a":1}`, ``},
	} {
		if got := describe(checkJSON([]byte(test.in))); got != test.want {
			t.Errorf("checkJSON(%.60s) = %q, want %q", test.in, got, test.want)
		}
	}
}

// FuzzCheckJSON holds checkJSON to the answers of the walk over
// json.Decoder.Token it replaced, byte for byte of the message and field.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range checkJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := describe(checkJSON(b)), describe(checkJSONTokens(b))
		if got != want {
			t.Errorf("checkJSON(%q) = %q; the Token walk says %q", b, got, want)
		}
	})
}

// BenchmarkCheckJSON walks a batch of 50 GPS pings.
func BenchmarkCheckJSON(b *testing.B) {
	var pings []map[string]any
	for i := range 50 {
		pings = append(pings, map[string]any{"lat": 55.75 + float64(i)/1e4, "lng": 37.61, "accuracy_m": 5, "speed_mps": 3,
			"heading": 90, "recorded_at": "2026-11-23T10:00:00.123Z"})
	}
	body, _ := json.Marshal(map[string]any{"pings": pings})
	for _, impl := range []struct {
		name string
		fn   func([]byte) error
	}{{"bytes", checkJSON}, {"tokens", checkJSONTokens}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := impl.fn(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
