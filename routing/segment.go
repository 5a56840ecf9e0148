package routing

// twSeg is the time-warp concatenation data of a sequence of visits (Vidal
// et al. 2013): dur is the minimal duration including service and waiting,
// tw the time warp, and [e, l] the range of start times at the first visit
// that achieve both. Two segments merge in O(1), which makes every move's
// time-window evaluation constant time.
type twSeg struct {
	dur, tw, e, l int64
}

// merge concatenates a, a travel of t, and b. a.dur already includes the
// service at a's last visit.
func merge(a twSeg, t int64, b twSeg) twSeg {
	delta := a.dur - a.tw + t
	wait := max(b.e-delta-a.l, 0)
	warp := max(a.e+delta-b.l, 0)
	return twSeg{
		dur: a.dur + b.dur + t + wait,
		tw:  a.tw + b.tw + warp,
		e:   max(b.e-delta, a.e) - wait,
		l:   min(b.l-delta, a.l) + warp,
	}
}
