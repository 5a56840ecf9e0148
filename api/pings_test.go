package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

var pingSeeds = []string{
	`{"pings":[{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3.5,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}]}`,
	` { "pings" : [ { "recorded_at" : "2026-11-23T13:00:00+03:00" , "lng" : -1e-3 , "lat" : 0 } , {} ] } `,
	`{"pings":[]}`,
	`{"pings":[{"lat":-0.5E+2,"lng":1,"accuracy_m":-1,"speed_mps":-1,"heading":-1,"recorded_at":"2026-11-23T10:00:00Z"}]}`,
	// What the fast path leaves to decodeJSON.
	`{"pings":[{"lat":55.75,"lat":1}]}`,
	`{"pings":[{"LAT":55.75}]}`,
	`{"pings":[{"lat":null}]}`,
	`{"pings":[{"lat":"55.75"}]}`,
	`{"pings":[{"lat":01}]}`,
	`{"pings":[{"lat":1e999}]}`,
	`{"pings":[{"recorded_at":"2026-11-23T10:00:00\u005a"}]}`,
	`{"pings":[{"recorded_at":"yesterday"}]}`,
	`{"pings":[{"extra":1}]}`,
	`{"pings":[{"lat":1}],"more":1}`,
	`{"pings":[{"lat":1}]} x`,
	`{"pings":[{"lat":1},]}`,
	`{"pings":[{"lat":1,}]}`,
	`{"pings":{}}`,
	`{"pings":[{"lat":-}]}`,
	`{"pings":[{"lat":1.}]}`,
	`{"pings":[{"lat":1e}]}`,
	`[]`,
	``,
}

// FuzzDecodePings: whatever decodePings accepts, decodeJSON accepts to the
// same value.
func FuzzDecodePings(f *testing.F) {
	for _, s := range pingSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastPings(t, b) })
}

func checkFastPings(t *testing.T, b []byte) bool {
	t.Helper()
	fast, ok := decodePings(b)
	if !ok {
		return false
	}
	var slow locationsIn
	if err := decodeJSON(b, &slow); err != nil {
		t.Fatalf("decodePings took %q, decodeJSON refused it: %v", b, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		f, _ := json.Marshal(fast)
		s, _ := json.Marshal(slow)
		t.Fatalf("decodePings(%q) = %s, decodeJSON gives %s", b, f, s)
	}
	return true
}

// TestDecodePings: the seeds (the fuzz target's, run as a test), and which of
// them the fast path takes.
func TestDecodePings(t *testing.T) {
	took := 0
	for _, s := range pingSeeds {
		if checkFastPings(t, []byte(s)) {
			took++
		}
	}
	if took != 4 {
		t.Errorf("the fast path took %d of the seeds, want the first 4", took)
	}
	var batch []string
	for range 50 {
		batch = append(batch, `{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}`)
	}
	if !checkFastPings(t, []byte(`{"pings":[`+strings.Join(batch, ",")+`]}`)) {
		t.Error("a batch of 50 pings took the slow path")
	}
}

// BenchmarkDecodePings: a batch of 50 pings by the fast path and by decodeJSON.
func BenchmarkDecodePings(b *testing.B) {
	var batch []string
	for range 50 {
		batch = append(batch, `{"lat":55.75,"lng":37.61,"accuracy_m":5,"speed_mps":3,"heading":90,"recorded_at":"2026-11-23T10:00:00.123Z"}`)
	}
	body := []byte(`{"pings":[` + strings.Join(batch, ",") + `]}`)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodePings(body); !ok {
				b.Fatal("slow path")
			}
		}
	})
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in locationsIn
			if err := decodeJSON(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
