package store

import (
	"database/sql"
	"slices"
	"sync"
)

// AllCouriers in a plan change means every courier's plan may have changed
// (a depot moved: it is the start and end of many routes).
const AllCouriers int64 = 0

// OnPlansChanged installs fn, told after each commit which couriers' route
// sheets or the orders on them it wrote (AllCouriers: maybe every courier's),
// so that what a replica cached of their active plans can be dropped. It is
// called once per transaction, after the commit, never for a rollback; fn
// must not block for long. Call it before serving.
func (s *DB) OnPlansChanged(fn func(courierIDs []int64)) {
	s.plans.mu.Lock()
	defer s.plans.mu.Unlock()
	s.plans.hook = fn
}

// planChanges collects, per open write transaction, the couriers whose plans
// it touched.
type planChanges struct {
	mu   sync.Mutex
	hook func([]int64)
	open map[*sql.Tx][]int64
}

// touch records that tx wrote the route sheets or orders of these couriers
// (ids of 0 other than AllCouriers are not couriers: an order without one).
func (s *DB) touch(tx *sql.Tx, all bool, courierIDs ...int64) {
	p := &s.plans
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hook == nil {
		return
	}
	if p.open == nil {
		p.open = map[*sql.Tx][]int64{}
	}
	ids := p.open[tx]
	if all {
		ids = append(ids, AllCouriers)
	}
	for _, id := range courierIDs {
		if id > 0 {
			ids = append(ids, id)
		}
	}
	if ids != nil {
		p.open[tx] = ids
	}
}

// ended forgets tx and, when it committed, tells the hook what it touched.
func (s *DB) ended(tx *sql.Tx, committed bool) {
	p := &s.plans
	p.mu.Lock()
	ids, ok := p.open[tx]
	delete(p.open, tx)
	hook := p.hook
	p.mu.Unlock()
	if !ok || !committed || hook == nil {
		return
	}
	slices.Sort(ids)
	hook(slices.Compact(ids))
}
