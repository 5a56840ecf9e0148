package courier

// BoundMap keeps a cache map under limit entries before one is added: when it
// is full the entries expired says are gone are deleted, and when that is not
// enough, all of them (a cache refills; memory must not grow without end).
func BoundMap[K comparable, V any](m map[K]V, limit int, expired func(V) bool) {
	if len(m) < limit {
		return
	}
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	if len(m) >= limit {
		clear(m)
	}
}
