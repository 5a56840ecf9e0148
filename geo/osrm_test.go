package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courierhq/courier"
)

// httpFetch is the Fetch cmd/courierd builds from an *http.Client (see Fetch).
func httpFetch(client *http.Client) Fetch {
	return func(ctx context.Context, url string) (int, io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		return resp.StatusCode, resp.Body, nil
	}
}

// fakeLeg is the fake server's road network: haversine × 1.3, 10% longer
// southbound (so that the matrix is asymmetric, as road matrices are, and a
// transposed block shows), at 8 m/s; one decimal, as OSRM answers.
func fakeLeg(a, b courier.LatLng) (seconds, metres float64) {
	d := HaversineM(a, b) * 1.3
	if b.Lat < a.Lat {
		d *= 1.1
	}
	return math.Round(d/8*10) / 10, math.Round(d*10) / 10
}

// fakeRequest is what the fake saw of one table request.
type fakeRequest struct {
	Path         string
	Profile      string
	Coords       []courier.LatLng
	Sources      []int // nil: all
	Destinations []int // nil: all
	RawQuery     string
}

// fakeOSRM answers OSRM's table service from fakeLeg. It checks requests as
// osrm-routed does (lng,lat order and ranges, index ranges, max table size)
// and records them.
type fakeOSRM struct {
	t        *testing.T
	maxTable int                                               // coordinates per request; 0: no limit
	noRoute  map[[2]courier.LatLng]bool                        // from, to: answered null
	offRoad  courier.LatLng                                    // a coordinate answered NoSegment (when not zero)
	respond  func(w http.ResponseWriter, r *http.Request) bool // answers instead, when it returns true

	mu          sync.Mutex
	requests    []fakeRequest
	inFlight    int
	maxInFlight int
}

func (f *fakeOSRM) start() *httptest.Server {
	srv := httptest.NewServer(f)
	f.t.Cleanup(srv.Close)
	return srv
}

func (f *fakeOSRM) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

func (f *fakeOSRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.respond != nil && f.respond(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/table/v1/")
	profile, coordText, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || r.Method != http.MethodGet {
		f.fail(w, http.StatusBadRequest, "InvalidUrl", "URL string malformed")
		return
	}
	var req fakeRequest
	req.Path, req.Profile, req.RawQuery = r.URL.Path, profile, r.URL.RawQuery
	for _, c := range strings.Split(coordText, ";") {
		lngText, latText, ok := strings.Cut(c, ",")
		lng, err1 := strconv.ParseFloat(lngText, 64)
		lat, err2 := strconv.ParseFloat(latText, 64)
		if !ok || err1 != nil || err2 != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			f.fail(w, http.StatusBadRequest, "InvalidQuery", "Query string malformed close to position 0")
			return
		}
		req.Coords = append(req.Coords, courier.LatLng{Lat: lat, Lng: lng})
	}
	// net/url drops query parts with semicolons, so parse by hand.
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		var dst *[]int
		switch k {
		case "annotations":
			if v != "duration,distance" {
				f.fail(w, http.StatusBadRequest, "InvalidQuery", "annotations: "+v)
				return
			}
			continue
		case "sources":
			dst = &req.Sources
		case "destinations":
			dst = &req.Destinations
		default:
			f.fail(w, http.StatusBadRequest, "InvalidQuery", "unknown parameter "+k)
			return
		}
		*dst = []int{}
		for _, s := range strings.Split(v, ";") {
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(req.Coords) {
				f.fail(w, http.StatusBadRequest, "InvalidOptions", "index out of range: "+s)
				return
			}
			*dst = append(*dst, i)
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.maxTable > 0 && len(req.Coords) > f.maxTable {
		f.fail(w, http.StatusBadRequest, "TooBig", "Too many table coordinates")
		return
	}
	for k, c := range req.Coords {
		if f.offRoad != (courier.LatLng{}) && c == f.offRoad {
			f.fail(w, http.StatusBadRequest, "NoSegment", fmt.Sprintf("Could not find a matching segment for coordinate %d", k))
			return
		}
	}
	all := make([]int, len(req.Coords))
	for i := range all {
		all[i] = i
	}
	src, dst := cmpOr(req.Sources, all), cmpOr(req.Destinations, all)
	durations := make([][]*float64, len(src))
	distances := make([][]*float64, len(src))
	for r, i := range src {
		for _, j := range dst {
			a, b := req.Coords[i], req.Coords[j]
			if f.noRoute[[2]courier.LatLng{a, b}] {
				durations[r], distances[r] = append(durations[r], nil), append(distances[r], nil)
				continue
			}
			s, m := fakeLeg(a, b)
			durations[r], distances[r] = append(durations[r], &s), append(distances[r], &m)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"code": "Ok", "durations": durations, "distances": distances,
		"sources": []any{}, "destinations": []any{}})
}

func cmpOr(a, b []int) []int {
	if a != nil {
		return a
	}
	return b
}

// tokyoPoints returns n distinct points around Tokyo: longitudes above 90,
// so a client that swapped lat and lng would send invalid latitudes.
func tokyoPoints(n int, seed uint64) []courier.LatLng {
	rng := rand.New(rand.NewPCG(seed, 3))
	pts := make([]courier.LatLng, n)
	for i := range pts {
		pts[i] = courier.LatLng{Lat: 35.55 + 0.3*rng.Float64(), Lng: 139.55 + 0.4*rng.Float64()}
		pts[i].Lat, pts[i].Lng = math.Round(pts[i].Lat*1e6)/1e6, math.Round(pts[i].Lng*1e6)/1e6 // as sent: 6 decimals
	}
	return pts
}

func newTestOSRM(t *testing.T, srv *httptest.Server) *OSRM {
	t.Helper()
	o, err := NewOSRM(srv.URL+"/", httpFetch(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// expectedMatrix is fakeLeg over all pairs, rounded as the client rounds.
func expectedMatrix(pts []courier.LatLng) *Matrix {
	m := NewMatrix(len(pts))
	for i, a := range pts {
		for j, b := range pts {
			if i != j {
				s, d := fakeLeg(a, b)
				m.Durations[i*m.N+j], m.Distances[i*m.N+j] = int64(math.Round(s)), int64(math.Round(d))
			}
		}
	}
	return m
}

func diffMatrix(t *testing.T, name string, got, want *Matrix) {
	t.Helper()
	if got.N != want.N {
		t.Fatalf("%s: N = %d, want %d", name, got.N, want.N)
	}
	for i := range want.N {
		for j := range want.N {
			gm, gs := got.At(i, j)
			wm, ws := want.At(i, j)
			if gm != wm || gs != ws {
				t.Fatalf("%s: (%d, %d) = %d m, %d s; want %d m, %d s", name, i, j, gm, gs, wm, ws)
			}
		}
	}
}

func TestOSRMChunkedMatrix(t *testing.T) {
	fake := &fakeOSRM{t: t, maxTable: 100}
	o := newTestOSRM(t, fake.start())
	pts := tokyoPoints(250, 1)
	got, err := o.Matrix(context.Background(), pts, courier.VehicleCar, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	// The fake's answer to the whole matrix at once.
	whole := &fakeOSRM{t: t}
	o1 := newTestOSRM(t, whole.start())
	o1.MaxTableSize = 1000
	full, err := o1.Matrix(context.Background(), pts, courier.VehicleCar, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(whole.requests) != 1 || len(whole.requests[0].Coords) != 250 || whole.requests[0].Sources != nil || whole.requests[0].Destinations != nil {
		t.Fatalf("whole matrix: want one request of 250 coordinates without sources or destinations, got %d", len(whole.requests))
	}
	diffMatrix(t, "chunked vs whole", got, full)
	diffMatrix(t, "chunked vs expected", got, expectedMatrix(pts))
	if got.Distance(0, 1) == got.Distance(1, 0) {
		t.Errorf("the fake should be asymmetric: (0,1) = (1,0) = %d m", got.Distance(0, 1))
	}

	// 250 points in chunks of 50: 5×5 blocks, none above 100 coordinates,
	// every pair asked exactly once, at most Parallel requests at a time.
	if len(fake.requests) != 25 {
		t.Errorf("%d requests, want 25", len(fake.requests))
	}
	index := map[courier.LatLng]int{}
	for i, p := range pts {
		index[p] = i
	}
	asked := make([]int, 250*250)
	for _, r := range fake.requests {
		if len(r.Coords) > 100 {
			t.Errorf("a request with %d coordinates", len(r.Coords))
		}
		if r.Profile != "car" {
			t.Errorf("profile %q, want car", r.Profile)
		}
		all := make([]int, len(r.Coords))
		for i := range all {
			all[i] = i
		}
		for _, s := range cmpOr(r.Sources, all) {
			for _, d := range cmpOr(r.Destinations, all) {
				i, ok1 := index[r.Coords[s]]
				j, ok2 := index[r.Coords[d]]
				if !ok1 || !ok2 {
					t.Fatalf("request coordinates %v, %v are none of the points", r.Coords[s], r.Coords[d])
				}
				asked[i*250+j]++
			}
		}
	}
	for k, c := range asked {
		if c != 1 {
			t.Fatalf("pair (%d, %d) asked %d times, want once", k/250, k%250, c)
		}
	}
	if fake.maxInFlight > DefaultOSRMParallel {
		t.Errorf("%d requests in flight at once, want at most %d", fake.maxInFlight, DefaultOSRMParallel)
	}
}

func TestOSRMChunkSizeAndParallel(t *testing.T) {
	for _, test := range []struct {
		n, maxTable, parallel int
		wantRequests          int
	}{
		{30, 100, 4, 1},   // fits: one request
		{100, 100, 4, 1},  // exactly fits
		{101, 100, 4, 9},  // chunks 50, 50, 1
		{250, 100, 1, 25}, // one at a time
		{25, 10, 2, 25},   // chunks of 5
		{7, 2, 3, 49},     // chunks of 1
	} {
		name := fmt.Sprintf("n=%d max=%d parallel=%d", test.n, test.maxTable, test.parallel)
		fake := &fakeOSRM{t: t, maxTable: test.maxTable}
		o := newTestOSRM(t, fake.start())
		o.MaxTableSize, o.Parallel = test.maxTable, test.parallel
		pts := tokyoPoints(test.n, uint64(test.n))
		got, err := o.Matrix(context.Background(), pts, courier.VehicleCar, time.Time{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		diffMatrix(t, name, got, expectedMatrix(pts))
		if len(fake.requests) != test.wantRequests {
			t.Errorf("%s: %d requests, want %d", name, len(fake.requests), test.wantRequests)
		}
		if fake.maxInFlight > test.parallel {
			t.Errorf("%s: %d requests in flight, want at most %d", name, fake.maxInFlight, test.parallel)
		}
		if test.wantRequests == 1 && (fake.requests[0].Sources != nil || fake.requests[0].Destinations != nil) {
			t.Errorf("%s: a single request should ask for all pairs, got %q", name, fake.requests[0].RawQuery)
		}
	}
}

func TestOSRMURL(t *testing.T) {
	tokyo, sydney, oslo := courier.LatLng{Lat: 35.6895, Lng: 139.6917}, courier.LatLng{Lat: -33.8688, Lng: 151.2093}, courier.LatLng{Lat: 59.9139, Lng: 10.7522}
	santiago, reykjavik := courier.LatLng{Lat: -33.4489, Lng: -70.6693}, courier.LatLng{Lat: 64.1466, Lng: -21.9426}
	for _, test := range []struct {
		name     string
		maxTable int
		points   []courier.LatLng
		want     []string // some of the requests, in lng,lat order
	}{
		{"one request", 100, []courier.LatLng{tokyo, sydney, oslo}, []string{
			"/table/v1/bike/139.691700,35.689500;151.209300,-33.868800;10.752200,59.913900?annotations=duration,distance",
		}},
		{"blocks of one", 2, []courier.LatLng{tokyo, sydney, oslo}, []string{
			"/table/v1/bike/139.691700,35.689500?annotations=duration,distance",
			"/table/v1/bike/139.691700,35.689500;151.209300,-33.868800?annotations=duration,distance&sources=0&destinations=1",
			"/table/v1/bike/151.209300,-33.868800;139.691700,35.689500?annotations=duration,distance&sources=0&destinations=1",
			"/table/v1/bike/10.752200,59.913900;151.209300,-33.868800?annotations=duration,distance&sources=0&destinations=1",
		}},
		{"blocks of two", 4, []courier.LatLng{tokyo, sydney, oslo, santiago, reykjavik}, []string{
			"/table/v1/bike/139.691700,35.689500;151.209300,-33.868800?annotations=duration,distance",
			"/table/v1/bike/139.691700,35.689500;151.209300,-33.868800;10.752200,59.913900;-70.669300,-33.448900?annotations=duration,distance&sources=0;1&destinations=2;3",
			"/table/v1/bike/-21.942600,64.146600;139.691700,35.689500;151.209300,-33.868800?annotations=duration,distance&sources=0&destinations=1;2",
			"/table/v1/bike/-21.942600,64.146600?annotations=duration,distance",
		}},
	} {
		fake := &fakeOSRM{t: t}
		o := newTestOSRM(t, fake.start())
		o.MaxTableSize = test.maxTable
		got, err := o.Matrix(context.Background(), test.points, courier.VehicleBike, time.Time{})
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		diffMatrix(t, test.name, got, expectedMatrix(test.points))
		var urls []string
		for _, r := range fake.requests {
			urls = append(urls, r.Path+"?"+r.RawQuery)
		}
		for _, w := range test.want {
			if !slices.Contains(urls, w) {
				t.Errorf("%s: no request %s among\n%s", test.name, w, strings.Join(urls, "\n"))
			}
		}
	}
}

func TestOSRMProfiles(t *testing.T) {
	pts := tokyoPoints(3, 4)
	for _, test := range []struct {
		vehicle  string
		profiles map[string]string // nil: defaults
		want     string
	}{
		{courier.VehicleCar, nil, "car"},
		{courier.VehicleVan, nil, "car"},
		{courier.VehicleTruck, nil, "car"},
		{courier.VehicleBike, nil, "bike"},
		{courier.VehicleFoot, nil, "foot"},
		{courier.VehicleCar, map[string]string{courier.VehicleCar: "driving"}, "driving"},
		{courier.VehicleFoot, map[string]string{courier.VehicleFoot: "walking"}, "walking"},
	} {
		fake := &fakeOSRM{t: t}
		o := newTestOSRM(t, fake.start())
		if test.profiles != nil {
			o.Profiles = test.profiles
		}
		if _, err := o.Matrix(context.Background(), pts, test.vehicle, time.Time{}); err != nil {
			t.Fatalf("%s: %v", test.vehicle, err)
		}
		if len(fake.requests) != 1 || fake.requests[0].Profile != test.want {
			t.Errorf("%s with %v: requests %+v, want one with profile %q", test.vehicle, test.profiles, fake.requests, test.want)
		}
	}

	fake := &fakeOSRM{t: t}
	o := newTestOSRM(t, fake.start())
	for _, p := range []string{"hovercraft", ""} {
		_, err := o.Matrix(context.Background(), pts, p, time.Time{})
		if courier.ErrorCode(err) != courier.EINVALID || courier.ErrorDetails(err)["field"] != "profile" {
			t.Errorf("profile %q: %v, want EINVALID on profile", p, err)
		}
	}
	_, err := o.Matrix(context.Background(), append(pts, courier.LatLng{Lat: 139.7, Lng: 35.7}), courier.VehicleCar, time.Time{})
	if courier.ErrorCode(err) != courier.EINVALID || courier.ErrorDetails(err)["field"] != "points[3].lat" {
		t.Errorf("invalid point: %v, want EINVALID on points[3].lat", err)
	}
	if len(fake.requests) != 0 {
		t.Errorf("invalid input sent %d requests", len(fake.requests))
	}
}

func TestOSRMNoRoute(t *testing.T) {
	pts := tokyoPoints(250, 5)
	fake := &fakeOSRM{t: t, maxTable: 100, noRoute: map[[2]courier.LatLng]bool{{pts[37], pts[173]}: true}}
	o := newTestOSRM(t, fake.start())
	_, err := o.Matrix(context.Background(), pts, courier.VehicleCar, time.Time{})
	if courier.ErrorCode(err) != courier.EINVALID {
		t.Fatalf("no route: %v, want EINVALID", err)
	}
	if d := courier.ErrorDetails(err); d["from"] != 37 || d["to"] != 173 || !strings.Contains(courier.ErrorMessage(err), "from point 37 to point 173") {
		t.Errorf("no route: %v, details %v; want the pair 37 -> 173 named", err, d)
	}

	o.Unreachable = 1 << 40
	got, err := o.Matrix(context.Background(), pts, courier.VehicleCar, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := expectedMatrix(pts)
	want.Durations[37*250+173], want.Distances[37*250+173] = 1<<40, 1<<40
	diffMatrix(t, "with Unreachable", got, want)
}

func TestOSRMErrors(t *testing.T) {
	pts := tokyoPoints(250, 6)
	answer := func(status int, contentType, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			io.WriteString(w, body)
			return true
		}
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, test := range []struct {
		name       string
		fake       *fakeOSRM
		maxTable   int
		url        string // instead of the fake's
		wantCode   string
		wantOSRM   string
		wantStatus int
		wantPoint  any
	}{
		{name: "InvalidQuery", fake: &fakeOSRM{respond: answer(400, "application/json", `{"code":"InvalidQuery","message":"Query string malformed close to position 28"}`)},
			wantCode: courier.EINTERNAL, wantOSRM: "InvalidQuery", wantStatus: 400},
		{name: "TooBig: MaxTableSize above the server's", fake: &fakeOSRM{maxTable: 100}, maxTable: 200,
			wantCode: courier.EINTERNAL, wantOSRM: "TooBig", wantStatus: 400},
		{name: "NoSegment names the point", fake: &fakeOSRM{maxTable: 100, offRoad: pts[180]},
			wantCode: courier.EINVALID, wantOSRM: "NoSegment", wantStatus: 400, wantPoint: 180},
		{name: "code other than Ok with HTTP 200", fake: &fakeOSRM{respond: answer(200, "application/json", `{"code":"NoTable","message":"no table"}`)},
			wantCode: courier.EINTERNAL, wantOSRM: "NoTable", wantStatus: 200},
		{name: "HTTP 500", fake: &fakeOSRM{respond: answer(500, "text/plain", "internal server error")},
			wantCode: courier.EUNAVAILABLE, wantStatus: 500},
		{name: "HTTP 502 from a proxy, HTML", fake: &fakeOSRM{respond: answer(502, "text/html", "<html>Bad Gateway</html>")},
			wantCode: courier.EUNAVAILABLE, wantStatus: 502},
		{name: "200 but not JSON", fake: &fakeOSRM{respond: answer(200, "text/html", "<html>hello</html>")},
			wantCode: courier.EUNAVAILABLE, wantStatus: 200},
		{name: "Ok with a missing row", fake: &fakeOSRM{respond: answer(200, "application/json", `{"code":"Ok","durations":[[0,1]],"distances":[[0,1],[1,0]]}`)},
			wantCode: courier.EUNAVAILABLE, wantStatus: 200},
		{name: "Ok without distances (old OSRM)", fake: &fakeOSRM{respond: answer(200, "application/json", `{"code":"Ok","durations":[[0,1],[1,0]]}`)},
			wantCode: courier.EUNAVAILABLE, wantStatus: 200},
		{name: "negative duration", fake: &fakeOSRM{respond: answer(200, "application/json", `{"code":"Ok","durations":[[0,-1],[1,0]],"distances":[[0,1],[1,0]]}`)},
			wantCode: courier.EUNAVAILABLE, wantStatus: 200},
		{name: "connection refused", url: closed.URL, wantCode: courier.EUNAVAILABLE},
	} {
		url, client := test.url, http.DefaultClient
		if test.fake != nil {
			test.fake.t = t
			srv := test.fake.start()
			url, client = srv.URL, srv.Client()
		}
		o, err := NewOSRM(url, httpFetch(client))
		if err != nil {
			t.Fatal(err)
		}
		if test.maxTable != 0 {
			o.MaxTableSize = test.maxTable
		}
		p := pts
		if test.fake != nil && test.fake.respond != nil {
			p = pts[:2] // the canned answers are 2×2
		}
		_, err = o.Matrix(context.Background(), p, courier.VehicleCar, time.Time{})
		if code := courier.ErrorCode(err); code != test.wantCode {
			t.Errorf("%s: %v (code %q), want %q", test.name, err, code, test.wantCode)
			continue
		}
		var oe *OSRMError
		if !errors.As(err, &oe) {
			t.Errorf("%s: %v is not an *OSRMError", test.name, err)
			continue
		}
		if oe.Code != test.wantOSRM || oe.Status != test.wantStatus {
			t.Errorf("%s: OSRM code %q, HTTP %d; want %q, %d", test.name, oe.Code, oe.Status, test.wantOSRM, test.wantStatus)
		}
		if test.wantOSRM != "" && !strings.Contains(err.Error(), test.wantOSRM) {
			t.Errorf("%s: %q does not name the OSRM code", test.name, err)
		}
		if test.wantPoint != nil && courier.ErrorDetails(err)["point"] != test.wantPoint {
			t.Errorf("%s: details %v, want point %v", test.name, courier.ErrorDetails(err), test.wantPoint)
		}
	}
}

func TestOSRMContextCancel(t *testing.T) {
	arrived := make(chan struct{}, 100)
	fake := &fakeOSRM{t: t, maxTable: 10, respond: func(w http.ResponseWriter, r *http.Request) bool {
		arrived <- struct{}{}
		<-r.Context().Done() // answer nothing until the client gives up
		return true
	}}
	o := newTestOSRM(t, fake.start())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := o.Matrix(ctx, tokyoPoints(40, 7), courier.VehicleCar, time.Time{})
		done <- err
	}()
	<-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestOSRMRushFactor(t *testing.T) {
	fake := &fakeOSRM{t: t}
	o := newTestOSRM(t, fake.start())
	model := DefaultTravelModel(time.UTC)
	o.RushFactor = model.RushFactor
	pts := tokyoPoints(20, 8)
	got, err := o.Matrix(context.Background(), pts, courier.VehicleCar, time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range pts {
		for j, b := range pts {
			s, d := fakeLeg(a, b)
			if i == j {
				s, d = 0, 0
			}
			if gm, gs := got.At(i, j); gm != int64(math.Round(d)) || gs != int64(math.Round(s*1.3)) {
				t.Fatalf("(%d, %d) = %d m, %d s; want %.0f m, %.0f s", i, j, gm, gs, math.Round(d), math.Round(s*1.3))
			}
		}
	}
}

func TestOSRMSmall(t *testing.T) {
	fake := &fakeOSRM{t: t}
	o := newTestOSRM(t, fake.start())
	for _, n := range []int{0, 1} {
		m, err := o.Matrix(context.Background(), tokyoPoints(n, 9), courier.VehicleCar, time.Time{})
		if err != nil || m.N != n || len(m.Durations) != n*n {
			t.Errorf("n=%d: %v, %+v", n, err, m)
		}
	}
	if len(fake.requests) != 0 {
		t.Errorf("%d requests for fewer than two points", len(fake.requests))
	}
}

func TestNewOSRM(t *testing.T) {
	fetch := httpFetch(http.DefaultClient)
	for _, u := range []string{"", "osrm:5000", "ftp://osrm", "http://", "http://osrm:5000/?x=1", "://"} {
		if _, err := NewOSRM(u, fetch); courier.ErrorCode(err) != courier.EINVALID {
			t.Errorf("NewOSRM(%q): %v, want EINVALID", u, err)
		}
	}
	if _, err := NewOSRM("http://osrm:5000", nil); courier.ErrorCode(err) != courier.EINVALID {
		t.Errorf("NewOSRM without fetch: %v, want EINVALID", err)
	}
	o, err := NewOSRM("https://router.example.com/osrm/", fetch)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.tableURL([]courier.LatLng{{Lat: 1.5, Lng: -2.25}, {Lat: -0.0000001, Lng: 3}}, "car", tableBlock{0, 2, 0, 2}); got != "https://router.example.com/osrm/table/v1/car/-2.250000,1.500000;3.000000,-0.000000?annotations=duration,distance" {
		t.Errorf("URL %s", got)
	}
}
