package courier

import "time"

// OutboxMessage is a notification written in the same transaction as the
// change that causes it (the transactional outbox); a worker sends it later
// (push, webhooks) and marks it sent, so a change is never lost nor its
// notification sent for a change that was rolled back.
type OutboxMessage struct {
	ID        int64
	Topic     string // what kind of message: sheet_published, order_status, ...
	Key       string // deduplication key: a message with a key already queued is not queued twice
	Payload   []byte // JSON
	CreatedAt time.Time
}
