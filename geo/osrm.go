package geo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courierhq/courier"
)

var _ MatrixSource = (*OSRM)(nil)

// OSRM defaults.
const (
	// DefaultOSRMMaxTableSize is osrm-routed's default --max-table-size: the
	// most coordinates (sources and destinations together) one table request
	// may carry.
	DefaultOSRMMaxTableSize = 100
	// DefaultOSRMParallel is how many table requests run at once.
	DefaultOSRMParallel = 4
)

// DefaultOSRMProfiles returns the default mapping from our vehicle types to
// the profile segment of OSRM URLs, the names of OSRM's own profiles:
// car, van and truck -> "car"; bike -> "bike"; foot -> "foot". The map is a
// fresh copy. (A single osrm-routed serves one dataset and ignores the
// segment; setups behind a proxy often use "driving", "cycling", "walking".)
func DefaultOSRMProfiles() map[string]string {
	return map[string]string{
		courier.VehicleCar:   "car",
		courier.VehicleVan:   "car",
		courier.VehicleTruck: "car",
		courier.VehicleBike:  "bike",
		courier.VehicleFoot:  "foot",
	}
}

// Fetch performs an HTTP GET of url, honouring ctx, and returns the status
// code and the body, which the caller closes.
//
// The OSRM client takes a Fetch rather than an *http.Client because dispatch
// imports geo, and domain packages must not depend on net/http (the root's
// layout_test.go checks the dependency graph). cmd/courierd builds one from
// an *http.Client:
//
//	func(ctx context.Context, url string) (int, io.ReadCloser, error) {
//		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
//		if err != nil {
//			return 0, nil, err
//		}
//		resp, err := client.Do(req)
//		if err != nil {
//			return 0, nil, err
//		}
//		return resp.StatusCode, resp.Body, nil
//	}
type Fetch func(ctx context.Context, url string) (status int, body io.ReadCloser, err error)

// OSRM builds travel matrices with the table service of an OSRM server
// (OSRM_URL):
//
//	GET {base}/table/v1/{profile}/{lng,lat;lng,lat;...}?annotations=duration,distance&sources=...&destinations=...
//
// Coordinates go in OSRM's lng,lat order with 6 decimals (about 0.1 m).
// A matrix of more than MaxTableSize points is assembled from blocks: the
// points are cut into chunks of MaxTableSize/2 (rounded down) and, for every pair of a
// source chunk and a destination chunk, one request carries both chunks'
// coordinates (one chunk's alone on the diagonal) with sources= and
// destinations= picking the block. 250 points with the defaults take 5×5 =
// 25 requests of at most 100 coordinates, Parallel of them at a time.
//
// Durations are rounded to whole seconds and distances to whole metres, half
// away from zero; the diagonal is zero. OSRM answers null for a pair with no
// route: by default that is an EINVALID error naming the pair
// (Details "from" and "to" are the point indexes); with Unreachable > 0 such
// pairs read Unreachable seconds and Unreachable metres instead.
//
// Set the exported fields before first use; an OSRM is safe for concurrent
// use as long as nobody changes them.
type OSRM struct {
	// MaxTableSize is the most coordinates one request may carry: the
	// server's --max-table-size (default 100). At least 2.
	MaxTableSize int
	// Parallel is the most requests in flight at once (default 4).
	Parallel int
	// Profiles maps vehicle types to the profile segment of the URL
	// (default DefaultOSRMProfiles). Other vehicle types are EINVALID.
	Profiles map[string]string
	// Unreachable, when positive, is the duration and the distance of a pair
	// OSRM has no route for; zero makes such a pair an error.
	Unreachable int64
	// RushFactor, when set, multiplies OSRM's durations by the factor of the
	// departure time (TravelModel.RushFactor, for example): OSRM's table
	// knows no time of day. Nil leaves them as OSRM answers.
	RushFactor func(depart time.Time) float64

	base  string
	fetch Fetch
}

// NewOSRM returns a client of the OSRM server at baseURL (for example
// "http://osrm:5000") with the default settings. Returns EINVALID if baseURL
// is not an absolute http(s) URL or fetch is nil.
func NewOSRM(baseURL string, fetch Fetch) (*OSRM, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, courier.FieldError("osrm_url", "must be an absolute http(s) URL without query") // not echoed: it may hold credentials
	}
	if fetch == nil {
		return nil, courier.FieldError("osrm_fetch", "is required")
	}
	return &OSRM{
		MaxTableSize: DefaultOSRMMaxTableSize,
		Parallel:     DefaultOSRMParallel,
		Profiles:     DefaultOSRMProfiles(),
		base:         strings.TrimRight(baseURL, "/"),
		fetch:        fetch,
	}, nil
}

// OSRMError is a failed table request. errors.As finds in it a
// *courier.Error with the code the rest of the system goes by:
//   - EUNAVAILABLE when the server cannot be reached or fails: transport
//     errors, HTTP errors without an OSRM answer, answers that are not OSRM's;
//   - EINVALID for OSRM's "NoSegment": a point too far from any road
//     (Details "point" is its index when OSRM names it);
//   - EINTERNAL for every other OSRM code ("InvalidQuery", "TooBig", ...):
//     a bug, or MaxTableSize above the server's --max-table-size.
//
// errors.Is and errors.As also see the transport error in Err.
type OSRMError struct {
	Status  int    // HTTP status; 0 when there was no answer
	Code    string // OSRM's code; "" when the answer was not OSRM's
	Message string // OSRM's message, or what went wrong
	Err     error  // the transport error, if any

	domain *courier.Error
}

func (e *OSRMError) Error() string {
	var b strings.Builder
	b.WriteString("geo: osrm table")
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the domain error and the transport error.
func (e *OSRMError) Unwrap() []error {
	var errs []error
	if e.domain != nil {
		errs = append(errs, e.domain)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

func unavailable(status int, msg string, err error) *OSRMError {
	return &OSRMError{Status: status, Message: msg, Err: err,
		domain: &courier.Error{Code: courier.EUNAVAILABLE, Message: "road distances are unavailable: the OSRM server failed"}}
}

// tableBlock is one request: the sources [s0, s1) to the destinations [d0, d1).
type tableBlock struct{ s0, s1, d0, d1 int }

// tableBlocks cuts an n×n matrix into requests of at most max coordinates.
func tableBlocks(n, max int) []tableBlock {
	if n <= max {
		return []tableBlock{{0, n, 0, n}}
	}
	size := max / 2
	var out []tableBlock
	for s := 0; s < n; s += size {
		for d := 0; d < n; d += size {
			out = append(out, tableBlock{s, min(s+size, n), d, min(d+size, n)})
		}
	}
	return out
}

// Matrix returns the road distances and durations between all pairs of
// points for the vehicle type profile. depart only matters with RushFactor.
// Returns EINVALID for an invalid point, an unknown profile, a pair without
// a route (unless Unreachable is set) or a point OSRM cannot place on a road;
// an *OSRMError (EUNAVAILABLE, EINVALID or EINTERNAL) when a request fails;
// ctx's error when ctx ends first.
func (o *OSRM) Matrix(ctx context.Context, points []courier.LatLng, profile string, depart time.Time) (*Matrix, error) {
	osrmProfile, ok := o.Profiles[profile]
	if !ok || osrmProfile == "" {
		return nil, &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("profile: unknown vehicle type %q", profile),
			Details: map[string]any{"field": "profile"}}
	}
	if err := validatePoints(points); err != nil {
		return nil, err
	}
	maxSize := o.MaxTableSize
	if maxSize == 0 {
		maxSize = DefaultOSRMMaxTableSize
	}
	if maxSize < 2 {
		return nil, courier.FieldError("osrm.max_table_size", "must be at least 2, got %d", maxSize)
	}
	factor := 1.0
	if o.RushFactor != nil {
		factor = o.RushFactor(depart)
		if !(factor > 0) || math.IsInf(factor, 0) {
			return nil, courier.FieldError("osrm.rush_factor", "must be a positive number, got %v", factor)
		}
	}
	n := len(points)
	out := NewMatrix(n)
	if n < 2 {
		return out, nil
	}
	blocks := tableBlocks(n, maxSize)
	workers := o.Parallel
	if workers <= 0 {
		workers = DefaultOSRMParallel
	}
	workers = min(workers, len(blocks))

	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for bctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= len(blocks) {
					return
				}
				if err := o.table(bctx, points, osrmProfile, blocks[k], factor, out); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("geo: osrm table: %w", err)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// tableURL returns the request for block b.
func (o *OSRM) tableURL(points []courier.LatLng, profile string, b tableBlock) string {
	buf := make([]byte, 0, len(o.base)+64+24*((b.s1-b.s0)+(b.d1-b.d0))+8*(b.d1-b.d0))
	buf = append(buf, o.base...)
	buf = append(buf, "/table/v1/"...)
	buf = append(buf, url.PathEscape(profile)...)
	buf = append(buf, '/')
	coord := func(p courier.LatLng) {
		buf = strconv.AppendFloat(buf, p.Lng, 'f', 6, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, p.Lat, 'f', 6, 64)
	}
	for i := b.s0; i < b.s1; i++ {
		if i > b.s0 {
			buf = append(buf, ';')
		}
		coord(points[i])
	}
	square := b.s0 == b.d0 && b.s1 == b.d1
	if !square {
		for i := b.d0; i < b.d1; i++ {
			buf = append(buf, ';')
			coord(points[i])
		}
	}
	buf = append(buf, "?annotations=duration,distance"...)
	if !square {
		ns, nd := b.s1-b.s0, b.d1-b.d0
		buf = append(buf, "&sources="...)
		for k := range ns {
			if k > 0 {
				buf = append(buf, ';')
			}
			buf = strconv.AppendInt(buf, int64(k), 10)
		}
		buf = append(buf, "&destinations="...)
		for k := range nd {
			if k > 0 {
				buf = append(buf, ';')
			}
			buf = strconv.AppendInt(buf, int64(ns+k), 10)
		}
	}
	return string(buf)
}

// optFloat is a number that may be null.
type optFloat struct {
	v  float64
	ok bool
}

func (f *optFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = optFloat{}
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("not a number: %.20q", b)
	}
	*f = optFloat{v, true}
	return nil
}

// tableAnswer is the part of OSRM's table answer we read.
type tableAnswer struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Durations [][]optFloat `json:"durations"`
	Distances [][]optFloat `json:"distances"`
}

// table fetches block b and writes it into out.
func (o *OSRM) table(ctx context.Context, points []courier.LatLng, profile string, b tableBlock, factor float64, out *Matrix) error {
	ns, nd := b.s1-b.s0, b.d1-b.d0
	status, body, err := o.fetch(ctx, o.tableURL(points, profile, b))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("geo: osrm table: %w", ctx.Err())
		}
		return unavailable(0, "request failed", err)
	}
	limit := int64(1<<20 + 64*ns*nd) // about 20 bytes per number; waypoints and hints besides
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	body.Close()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("geo: osrm table: %w", ctx.Err())
		}
		return unavailable(status, "reading the answer failed", err)
	}
	if int64(len(raw)) > limit {
		return unavailable(status, fmt.Sprintf("answer larger than %d bytes", limit), nil)
	}
	var ans tableAnswer
	jsonErr := json.Unmarshal(raw, &ans)
	if jsonErr == nil && ans.Code != "" && ans.Code != "Ok" {
		return osrmCodeError(status, ans.Code, ans.Message, b)
	}
	if status != 200 {
		return unavailable(status, "HTTP error", nil)
	}
	if jsonErr != nil {
		return unavailable(status, "the answer is not OSRM's table JSON", jsonErr)
	}
	if ans.Code != "Ok" {
		return unavailable(status, "the answer has no code", nil)
	}
	if !shaped(ans.Durations, ns, nd) || !shaped(ans.Distances, ns, nd) {
		return unavailable(status, fmt.Sprintf("expected %d×%d durations and distances (does the server support annotations=duration,distance?)", ns, nd), nil)
	}
	for r := range ns {
		i := b.s0 + r
		for c := range nd {
			j := b.d0 + c
			if i == j {
				continue // the diagonal stays zero
			}
			du, di := ans.Durations[r][c], ans.Distances[r][c]
			var sec, m int64
			switch {
			case du.ok && di.ok:
				if !(du.v >= 0) || !(di.v >= 0) || math.IsInf(du.v, 0) || math.IsInf(di.v, 0) {
					return unavailable(status, fmt.Sprintf("invalid values %v s, %v m from point %d to point %d", du.v, di.v, i, j), nil)
				}
				sec, m = int64(math.Round(du.v*factor)), int64(math.Round(di.v))
			case o.Unreachable > 0:
				sec, m = o.Unreachable, o.Unreachable
			default:
				return &courier.Error{Code: courier.EINVALID, Message: fmt.Sprintf("no road route from point %d to point %d", i, j),
					Details: map[string]any{"from": i, "to": j}}
			}
			k := i*out.N + j
			out.Durations[k], out.Distances[k] = sec, m
		}
	}
	return nil
}

func shaped(m [][]optFloat, rows, cols int) bool {
	if len(m) != rows {
		return false
	}
	for _, r := range m {
		if len(r) != cols {
			return false
		}
	}
	return true
}

// osrmCodeError classifies an OSRM error answer to block b. For NoSegment it
// turns OSRM's coordinate index, which counts within the request, into the
// point's index.
func osrmCodeError(status int, code, msg string, b tableBlock) *OSRMError {
	e := &OSRMError{Status: status, Code: code, Message: msg}
	switch code {
	case "NoSegment":
		d := &courier.Error{Code: courier.EINVALID, Message: "a point is too far from any road"}
		const marker = "coordinate "
		if at := strings.LastIndex(msg, marker); at >= 0 {
			if k, err := strconv.Atoi(strings.TrimSpace(msg[at+len(marker):])); err == nil && k >= 0 {
				p := -1
				switch ns := b.s1 - b.s0; {
				case k < ns:
					p = b.s0 + k
				case !(b.s0 == b.d0 && b.s1 == b.d1) && k < ns+(b.d1-b.d0):
					p = b.d0 + k - ns
				}
				if p >= 0 {
					d.Message = fmt.Sprintf("point %d is too far from any road", p)
					d.Details = map[string]any{"point": p}
				}
			}
		}
		e.domain = d
	case "TooBig":
		e.domain = &courier.Error{Code: courier.EINTERNAL, Message: "the OSRM server's max-table-size is below the client's MaxTableSize"}
	default:
		e.domain = &courier.Error{Code: courier.EINTERNAL, Message: "OSRM rejected the table request"}
	}
	return e
}
