package courier

import (
	"context"
	"sync"
	"time"
)

// IdempotencyRecord remembers a POST made with an Idempotency-Key, so a phone
// that retries gets the first answer again instead of applying twice.
// Scope separates callers (the user id) so keys never collide across users.
type IdempotencyRecord struct {
	Scope       string
	Key         string
	RequestHash string // method, path and body digest
	Status      int    // the HTTP status of the stored answer
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyStore keeps IdempotencyRecords.
type IdempotencyStore interface {
	// BeginIdempotent starts the transaction of a request made with rec's
	// key. When the key already has an answer it returns that record and no
	// transaction. Otherwise the key is held by the new transaction until it
	// ends: the store calls made with tx.Context() join it, and tx.Commit
	// stores the answer with them, all or nothing. A transaction that never
	// committed (its server died) leaves nothing behind, so the next attempt
	// runs at once. Returns ECONFLICT while another live transaction holds
	// the key (where the backend can tell at once; otherwise it waits).
	BeginIdempotent(ctx context.Context, rec IdempotencyRecord) (tx IdempotentTx, prev *IdempotencyRecord, err error)
	// IdempotencyRecordOf returns the stored answer of a key. Returns ENOTFOUND.
	IdempotencyRecordOf(ctx context.Context, scope, key string) (*IdempotencyRecord, error)
	// PurgeIdempotencyKeys deletes records created before t.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// IdempotentTx is the transaction of one request made with an
// Idempotency-Key (IdempotencyStore.BeginIdempotent). It is not for
// concurrent use.
type IdempotentTx interface {
	// Context is the request's context with the transaction: store calls
	// made with it (or a context derived from it) join the transaction.
	Context() context.Context
	// Commit stores the answer (status and body) and commits it with the
	// request's writes, then runs the work AfterTx deferred.
	Commit(status int, body []byte) error
	// Rollback undoes the request's writes and frees the key.
	Rollback() error
}

// AfterTx defers fn until the request transaction carried by ctx ends: fn
// learns whether it committed. Without such a transaction fn(true) runs at
// once. Work that others must see only once the request's writes are
// visible (a background job that reads them) starts this way.
func AfterTx(ctx context.Context, fn func(committed bool)) {
	if q, ok := ctx.Value(txEndKey{}).(*TxEnd); ok && q.add(fn) {
		return
	}
	fn(true)
}

type txEndKey struct{}

// TxEnd holds the work AfterTx deferred until a request transaction ends.
// A store that opens such a transaction puts one in its context (WithTxEnd)
// and calls Run when it commits or rolls back.
type TxEnd struct {
	mu    sync.Mutex
	fns   []func(bool)
	ended bool
}

// WithTxEnd returns ctx carrying a new TxEnd.
func WithTxEnd(ctx context.Context) (context.Context, *TxEnd) {
	q := &TxEnd{}
	return context.WithValue(ctx, txEndKey{}, q), q
}

func (q *TxEnd) add(fn func(bool)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ended {
		return false
	}
	q.fns = append(q.fns, fn)
	return true
}

// Run runs the deferred work once, in the order it was added. Later AfterTx
// calls with the context run at once.
func (q *TxEnd) Run(committed bool) {
	q.mu.Lock()
	fns := q.fns
	q.fns, q.ended = nil, true
	q.mu.Unlock()
	for _, fn := range fns {
		fn(committed)
	}
}

// Store is everything the service keeps in the relational database.
type Store interface {
	UserStore
	DepotStore
	CourierStore
	OrderStore
	ZoneStore
	PlanStore
	IdempotencyStore
	LedgerStore
	NotifyStore
	CourierDayStore
	ReportStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
}

// Clock tells the time; tests inject a fixed one.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
