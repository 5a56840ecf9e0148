package api

import (
	"strconv"
	"time"
)

// decodePings is the fast path of a GPS batch, the request phones send most:
// it reads {"pings": [{...}, ...]} with the six known fields of pingIn, each
// at most once, numbers as numbers and recorded_at as a string without
// escapes, and reports false for anything else (then decodeJSON decides,
// with its error messages). Whatever it accepts, decodeJSON accepts too, to
// the same value (FuzzDecodePings): it only skips encoding/json's
// reflection, which cost most of a batch's CPU in courierd.
func decodePings(b []byte) (locationsIn, bool) {
	p := pingParser{b: b}
	in, ok := p.body()
	return in, ok && p.end()
}

type pingParser struct {
	b []byte
	i int
}

func (p *pingParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// eat skips white space and then c, reporting whether c was there.
func (p *pingParser) eat(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pingParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// str reads a string without escapes or control characters, all ASCII, and
// returns it with its quotes.
func (p *pingParser) str() ([]byte, bool) {
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[p.i : j+1]
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// num reads a JSON number.
func (p *pingParser) num() (float64, bool) {
	p.space()
	start, j := p.i, p.i
	digits := func() int {
		n := 0
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j, n = j+1, n+1
		}
		return n
	}
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	switch n := digits(); {
	case n == 0, n > 1 && p.b[j-n] == '0':
		return 0, false
	}
	if j < len(p.b) && p.b[j] == '.' {
		j++
		if digits() == 0 {
			return 0, false
		}
	}
	if j < len(p.b) && (p.b[j] == 'e' || p.b[j] == 'E') {
		j++
		if j < len(p.b) && (p.b[j] == '+' || p.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(p.b[start:j]), 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return v, true
}

func (p *pingParser) body() (locationsIn, bool) {
	var in locationsIn
	if !p.eat('{') {
		return in, false
	}
	if key, ok := p.str(); !ok || string(key) != `"pings"` || !p.eat(':') || !p.eat('[') {
		return in, false
	}
	if p.eat(']') {
		in.Pings = []pingIn{}
		return in, p.eat('}')
	}
	// The values are read into one slice, and the pings point into it once
	// it is complete: three allocations a batch, not three a ping.
	raw := make([]rawPing, 0, len(p.b)/120+1)
	for {
		var r rawPing
		if !p.ping(&r) {
			return in, false
		}
		raw = append(raw, r)
		if p.eat(']') {
			break
		}
		if !p.eat(',') {
			return in, false
		}
	}
	in.Pings = make([]pingIn, len(raw))
	for i := range raw {
		r, out := &raw[i], &in.Pings[i]
		out.AccuracyM, out.SpeedMPS, out.Heading = r.acc, r.spd, r.hdg
		if r.has[0] {
			out.Lat = &r.lat
		}
		if r.has[1] {
			out.Lng = &r.lng
		}
		if r.has[5] {
			out.RecordedAt = &r.at
		}
	}
	return in, p.eat('}')
}

// rawPing is a ping as read, before pingIn points into it; has marks the
// fields sent: lat, lng, accuracy_m, speed_mps, heading, recorded_at.
type rawPing struct {
	lat, lng, acc, spd, hdg float64
	at                      time.Time
	has                     [6]bool
}

func (p *pingParser) ping(r *rawPing) bool {
	if !p.eat('{') {
		return false
	}
	if p.eat('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.eat(':') {
			return false
		}
		k := -1
		switch string(key) {
		case `"lat"`:
			k = 0
		case `"lng"`:
			k = 1
		case `"accuracy_m"`:
			k = 2
		case `"speed_mps"`:
			k = 3
		case `"heading"`:
			k = 4
		case `"recorded_at"`:
			k = 5
		}
		if k < 0 || r.has[k] {
			return false
		}
		r.has[k] = true
		if k == 5 {
			s, ok := p.str()
			if !ok || r.at.UnmarshalJSON(s) != nil {
				return false
			}
		} else {
			v, ok := p.num()
			if !ok {
				return false
			}
			*[...]*float64{&r.lat, &r.lng, &r.acc, &r.spd, &r.hdg}[k] = v
		}
		if p.eat('}') {
			return true
		}
		if !p.eat(',') {
			return false
		}
	}
}
