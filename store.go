package courier

import (
	"context"
	"time"
)

// IdempotencyRecord remembers a POST made with an Idempotency-Key, so a phone
// that retries gets the first answer again instead of applying twice.
// Scope separates callers (the user id) so keys never collide across users.
type IdempotencyRecord struct {
	Scope       string
	Key         string
	RequestHash string // method, path and body digest
	Status      int    // 0 while the first request is in flight
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyStore keeps IdempotencyRecords.
type IdempotencyStore interface {
	// ReserveIdempotencyKey inserts rec (Status 0) unless (Scope, Key) exists;
	// it returns the existing record when there is one, else nil.
	ReserveIdempotencyKey(ctx context.Context, rec IdempotencyRecord) (*IdempotencyRecord, error)
	// CompleteIdempotencyKey stores the final status and body of a reserved key.
	CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, body []byte) error
	// ReleaseIdempotencyKey deletes a reservation whose request failed before
	// changing anything, so the client may retry.
	ReleaseIdempotencyKey(ctx context.Context, scope, key string) error
	// PurgeIdempotencyKeys deletes records created before t.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
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
