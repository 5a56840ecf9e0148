package courier

import "testing"

func TestBoundMap(t *testing.T) {
	m := map[int]int{1: 1, 2: 20, 3: 3}
	BoundMap(m, 4, func(v int) bool { return v < 10 })
	if len(m) != 3 {
		t.Errorf("under the limit: %v", m)
	}
	BoundMap(m, 3, func(v int) bool { return v < 10 })
	if len(m) != 1 || m[2] != 20 {
		t.Errorf("full: the expired go: %v", m)
	}
	m[4] = 40
	BoundMap(m, 2, func(v int) bool { return v < 10 })
	if len(m) != 0 {
		t.Errorf("full and nothing expired: all go: %v", m)
	}
}
