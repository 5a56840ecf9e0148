package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	courier "github.com/courierhq/courier"
)

// Devices, tracking tokens, the outbox's sending state and deliveries
// (migration 0006). The outbox is drained by several workers at once, in
// one process or many: a worker claims due rows by writing its lease
// (locked_until, locked_by) in one statement; on PostgreSQL the rows are
// picked with FOR UPDATE SKIP LOCKED so that claimers never wait on each
// other nor pick the same row, on SQLite the single writer serialises the
// claims. Every later write of a claimed row checks locked_by, so a worker
// whose lease was taken over writes nothing.

// skipLocked follows the SELECT of a claim.
func (s *DB) skipLocked() string {
	if s.d == postgresDialect {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

func deviceOwner(app string, userID, orderID int64) string {
	if app == courier.AppCustomer {
		return "order:" + strconv.FormatInt(orderID, 10)
	}
	return "user:" + strconv.FormatInt(userID, 10)
}

// SaveDevice inserts d, or updates the platform of the same owner's token,
// and sets ID and timestamps. A courier-app token that another user
// registered before moves to d.UserID. Returns EINVALID for an unknown user or order.
func (s *DB) SaveDevice(ctx context.Context, d *courier.Device) error {
	now := s.now()
	owner := deviceOwner(d.App, d.UserID, d.OrderID)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if d.App == courier.AppCourier {
			if _, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE app = $1 AND token = $2 AND owner <> $3`, d.App, d.Token, owner); err != nil {
				return fmt.Errorf("store: move device: %w", err)
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO devices (app, platform, token, owner, user_id, order_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (app, owner, token) DO UPDATE SET platform = excluded.platform, updated_at = excluded.updated_at
			RETURNING id, created_at`, d.App, d.Platform, d.Token, owner, nullID(d.UserID), nullID(d.OrderID), s.d.timeArg(now)).
			Scan(&d.ID, timeScan{&d.CreatedAt})
		if s.d.violation(err) == foreignKeyViolation {
			return &fkError{refs: []ref{{field: "user_id", what: "user", table: "users", id: d.UserID},
				{field: "order_id", what: "order", table: "orders", id: d.OrderID}}}
		} else if err != nil {
			return fmt.Errorf("store: save device: %w", err)
		}
		return nil
	})
	if err != nil {
		return s.resolve(ctx, err)
	}
	d.UpdatedAt = now
	return nil
}

// DeleteDevice deletes the owner's token. Returns ENOTFOUND.
func (s *DB) DeleteDevice(ctx context.Context, app string, userID, orderID int64, token string) error {
	return s.write(ctx, func(q execer) error {
		res, err := q.ExecContext(ctx, `DELETE FROM devices WHERE app = $1 AND owner = $2 AND token = $3`, app, deviceOwner(app, userID, orderID), token)
		if err != nil {
			return fmt.Errorf("store: delete device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return courier.Errorf(courier.ENOTFOUND, "this device token is not registered")
		}
		return nil
	})
}

// DropDevice deletes a device by id; a missing one is not an error.
func (s *DB) DropDevice(ctx context.Context, id int64) error {
	return s.write(ctx, func(q execer) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM devices WHERE id = $1`, id); err != nil {
			return fmt.Errorf("store: drop device %d: %w", id, err)
		}
		return nil
	})
}

// Devices returns the app's devices of a user (courier) or an order (customer), by id.
func (s *DB) Devices(ctx context.Context, app string, userID, orderID int64) ([]*courier.Device, error) {
	scan := func(row rowScanner) (*courier.Device, error) {
		var d courier.Device
		err := row.Scan(&d.ID, &d.App, &d.Platform, &d.Token, &d.UserID, &d.OrderID, timeScan{&d.CreatedAt}, timeScan{&d.UpdatedAt})
		return &d, err
	}
	return queryAll(ctx, s.read(ctx), "devices", scan, `SELECT id, app, platform, token, COALESCE(user_id, 0), COALESCE(order_id, 0), created_at, updated_at
		FROM devices WHERE app = $1 AND owner = $2 ORDER BY id`, app, deviceOwner(app, userID, orderID))
}

// TrackingToken returns the order's tracking token, creating it with
// newToken when there is none. Returns ENOTFOUND for an unknown order.
func (s *DB) TrackingToken(ctx context.Context, orderID int64, newToken func() string) (string, error) {
	var tok string
	err := s.read(ctx).QueryRowContext(ctx, `SELECT token FROM order_tracking WHERE order_id = $1`, orderID).Scan(&tok)
	if err == nil {
		return tok, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: tracking token of order %d: %w", orderID, err)
	}
	err = s.write(ctx, func(q execer) error {
		_, err := q.ExecContext(ctx, `INSERT INTO order_tracking (order_id, token, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (order_id) DO NOTHING`, orderID, newToken(), s.d.timeArg(s.now()))
		if s.d.violation(err) == foreignKeyViolation {
			return orderNotFound(orderID)
		} else if err != nil {
			return fmt.Errorf("store: create tracking token of order %d: %w", orderID, err)
		}
		if err := q.QueryRowContext(ctx, `SELECT token FROM order_tracking WHERE order_id = $1`, orderID).Scan(&tok); err != nil {
			return fmt.Errorf("store: tracking token of order %d: %w", orderID, err)
		}
		return nil
	})
	return tok, err
}

// OrderIDByTrackingToken returns the order of a tracking token. Returns ENOTFOUND.
func (s *DB) OrderIDByTrackingToken(ctx context.Context, token string) (int64, error) {
	var id int64
	err := s.read(ctx).QueryRowContext(ctx, `SELECT order_id FROM order_tracking WHERE token = $1`, token).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, courier.Errorf(courier.ENOTFOUND, "no order has this tracking link")
	} else if err != nil {
		return 0, fmt.Errorf("store: order by tracking token: %w", err)
	}
	return id, nil
}

// QueueOutbox queues messages on their own; a key queued before is skipped.
// It returns how many were new.
func (s *DB) QueueOutbox(ctx context.Context, msgs ...courier.OutboxMessage) (int, error) {
	now := s.now()
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for i := range msgs {
			m := &msgs[i]
			if m.Key == "" {
				return fmt.Errorf("store: outbox message of topic %q has no key", m.Topic)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO outbox (topic, dedup_key, payload, next_attempt_at, created_at)
				VALUES ($1, $2, $3, $4, $4) ON CONFLICT (dedup_key) DO NOTHING`, m.Topic, m.Key, string(m.Payload), s.d.timeArg(now))
			if err != nil {
				return fmt.Errorf("store: queue outbox %s: %w", m.Key, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
			m.CreatedAt = now
		}
		return nil
	})
	return n, err
}

const queuedColumns = `id, topic, dedup_key, payload, attempts, next_attempt_at, sent_at, failed_at, last_error, created_at`

func scanQueued(row rowScanner) (*courier.QueuedMessage, error) {
	var (
		m       courier.QueuedMessage
		payload string
	)
	if err := row.Scan(&m.ID, &m.Topic, &m.Key, &payload, &m.Attempts, timeScan{&m.NextAttemptAt}, timeScan{&m.SentAt},
		timeScan{&m.FailedAt}, &m.LastError, timeScan{&m.CreatedAt}); err != nil {
		return nil, err
	}
	m.Payload = []byte(payload)
	return &m, nil
}

// ClaimOutbox leases up to limit due messages to worker until now+lease.
func (s *DB) ClaimOutbox(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]*courier.QueuedMessage, error) {
	now = utc(now)
	list, err := queryAll(ctx, s.wdb, "claim outbox", scanQueued, `UPDATE outbox SET locked_until = $1, locked_by = $2 WHERE id IN (
		SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3
		AND (locked_until IS NULL OR locked_until <= $3) ORDER BY id LIMIT $4`+s.skipLocked()+`)
		RETURNING `+queuedColumns, s.d.timeArg(now.Add(lease)), worker, s.d.timeArg(now), limit)
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, nil
}

var errLeaseLost = courier.Errorf(courier.ECONFLICT, "the lease of this row was taken over by another worker")

// lockLeased reads and locks a row of table leased by worker. Returns
// errLeaseLost when another worker holds it (or it is gone).
func (s *DB) lockLeased(ctx context.Context, tx *sql.Tx, table string, id int64, worker string) error {
	var by string
	err := tx.QueryRowContext(ctx, `SELECT locked_by FROM `+table+` WHERE id = $1`+s.d.forUpdate, id).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) || err == nil && by != worker {
		return errLeaseLost
	} else if err != nil {
		return fmt.Errorf("store: lock %s %d: %w", table, id, err)
	}
	return nil
}

// ExpandOutbox inserts the message's deliveries and marks it sent, if worker
// still holds its lease. Returns ECONFLICT when the lease was lost.
func (s *DB) ExpandOutbox(ctx context.Context, id int64, worker string, deliveries []*courier.Delivery, now time.Time) error {
	now = utc(now)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockLeased(ctx, tx, "outbox", id, worker); err != nil {
			return err
		}
		// One insert per 100 deliveries, not one per delivery.
		for chunk := range slices.Chunk(deliveries, 100) {
			var c conds
			rows := make([]string, len(chunk))
			for i, d := range chunk {
				target := d.DeviceID
				if d.Channel == courier.ChannelWebhook {
					target = d.EndpointID
				}
				next := d.NextAttemptAt
				if next.IsZero() {
					next = now
				}
				rows[i] = "(" + inList(&c, []any{id, d.Channel, target, nullID(d.DeviceID), nullID(d.EndpointID), d.Event, string(d.Payload),
					courier.DeliveryPending, s.d.timeArg(utc(next)), s.d.timeArg(now), s.d.timeArg(now)}) + ")"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (outbox_id, channel, target, device_id, endpoint_id, event, payload, status,
				next_attempt_at, created_at, updated_at) VALUES `+strings.Join(rows, ", ")+`
				ON CONFLICT (outbox_id, channel, target) DO NOTHING`, c.args...)
			if err != nil {
				return fmt.Errorf("store: insert deliveries of outbox %d: %w", id, err)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = $1, locked_until = NULL, locked_by = '', attempts = attempts + 1 WHERE id = $2`,
			s.d.timeArg(now), id)
		if err != nil {
			return fmt.Errorf("store: mark outbox %d sent: %w", id, err)
		}
		return nil
	})
}

// RetryOutbox records a failed expansion of a message leased by worker.
func (s *DB) RetryOutbox(ctx context.Context, id int64, worker string, errText string, next time.Time, giveUp bool, now time.Time) error {
	var failed any
	if giveUp {
		failed = s.d.timeArg(utc(now))
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockLeased(ctx, tx, "outbox", id, worker); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, failed_at = $3,
			locked_until = NULL, locked_by = '' WHERE id = $4`, errText, s.d.timeArg(utc(next)), failed, id)
		if err != nil {
			return fmt.Errorf("store: retry outbox %d: %w", id, err)
		}
		return nil
	})
}

// OutboxMessages returns messages of topic (all when empty) with id > after, by id.
func (s *DB) OutboxMessages(ctx context.Context, topic string, after int64, limit int) ([]*courier.QueuedMessage, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = MaxLimit
	}
	q, args := `SELECT `+queuedColumns+` FROM outbox WHERE id > $1`, []any{after}
	if topic != "" {
		q += ` AND topic = $2`
		args = append(args, topic)
	}
	args = append(args, limit)
	return queryAll(ctx, s.read(ctx), "outbox messages", scanQueued, q+fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args)), args...)
}

const deliveryColumns = `id, outbox_id, channel, COALESCE(device_id, 0), COALESCE(endpoint_id, 0), event, payload, status, attempts,
	next_attempt_at, last_status, last_error, last_duration_ms, provider_id, sent_at, created_at, updated_at`

func scanDelivery(row rowScanner) (*courier.Delivery, error) {
	var (
		d       courier.Delivery
		payload string
		ms      int64
	)
	if err := row.Scan(&d.ID, &d.OutboxID, &d.Channel, &d.DeviceID, &d.EndpointID, &d.Event, &payload, &d.Status, &d.Attempts,
		timeScan{&d.NextAttemptAt}, &d.LastStatus, &d.LastError, &ms, &d.ProviderID, timeScan{&d.SentAt},
		timeScan{&d.CreatedAt}, timeScan{&d.UpdatedAt}); err != nil {
		return nil, err
	}
	d.Payload, d.LastDuration = []byte(payload), time.Duration(ms)*time.Millisecond
	return &d, nil
}

// ClaimDeliveries leases up to limit due pending deliveries of channel (all
// channels when empty) to worker until now+lease and counts the attempt.
func (s *DB) ClaimDeliveries(ctx context.Context, worker, channel string, now time.Time, lease time.Duration, limit int) ([]*courier.Delivery, error) {
	now = utc(now)
	list, err := queryAll(ctx, s.wdb, "claim deliveries", scanDelivery, `UPDATE deliveries SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id IN (
		SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3
		AND (locked_until IS NULL OR locked_until <= $3) AND ($5 = '' OR channel = $5) ORDER BY id LIMIT $4`+s.skipLocked()+`)
		RETURNING `+deliveryColumns, s.d.timeArg(now.Add(lease)), worker, s.d.timeArg(now), limit, channel)
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, nil
}

// FinishDelivery records a try's result and its log line, if worker still
// holds the lease. Returns ECONFLICT when the lease was lost.
//
// It runs for every push sent: on PostgreSQL it is one statement (the
// update, taken only while worker holds the lease, and the log line it
// returns), one round trip instead of five.
func (s *DB) FinishDelivery(ctx context.Context, id int64, worker string, r courier.DeliveryResult) error {
	at := utc(r.At)
	if at.IsZero() {
		at = s.now()
	}
	var sent, next any
	if r.Status == courier.DeliverySent {
		sent = s.d.timeArg(at)
	}
	next = s.d.timeArg(at)
	if r.Status == courier.DeliveryPending {
		next = s.d.timeArg(utc(r.RetryAt))
	}
	ms := r.Duration.Milliseconds()
	const update = `UPDATE deliveries SET status = $1, next_attempt_at = $2, last_status = $3, last_error = $4,
			last_duration_ms = $5, provider_id = CASE WHEN $6 = '' THEN provider_id ELSE $6 END, sent_at = COALESCE($7, sent_at),
			locked_until = NULL, locked_by = '', updated_at = $8 WHERE id = $9 AND locked_by = $10`
	args := []any{r.Status, next, r.HTTPStatus, r.Error, ms, r.ProviderID, sent, s.d.timeArg(at), id, worker}
	if s.d.name == "postgres" {
		return s.write(ctx, func(q execer) error {
			var logged int64
			err := q.QueryRowContext(ctx, `WITH d AS (`+update+` RETURNING id, attempts)
				INSERT INTO delivery_attempts (delivery_id, attempt, status, duration_ms, error, at)
				SELECT id, attempts, $3, $5, $4, $8 FROM d RETURNING delivery_id`, args...).Scan(&logged)
			if errors.Is(err, sql.ErrNoRows) {
				return errLeaseLost
			} else if err != nil {
				return fmt.Errorf("store: finish delivery %d: %w", id, err)
			}
			return nil
		})
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var attempt int
		err := tx.QueryRowContext(ctx, update+` RETURNING attempts`, args...).Scan(&attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return errLeaseLost
		} else if err != nil {
			return fmt.Errorf("store: finish delivery %d: %w", id, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, status, duration_ms, error, at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, attempt, r.HTTPStatus, ms, r.Error, s.d.timeArg(at))
		if err != nil {
			return fmt.Errorf("store: log delivery %d: %w", id, err)
		}
		return nil
	})
}

// Delivery returns a delivery by id. Returns ENOTFOUND.
func (s *DB) Delivery(ctx context.Context, id int64) (*courier.Delivery, error) {
	d, err := scanDelivery(s.read(ctx).QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courier.Errorf(courier.ENOTFOUND, "delivery %d not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("store: delivery %d: %w", id, err)
	}
	return d, nil
}

// Deliveries lists deliveries matching f, by id. A Limit of 0 means DefaultLimit.
func (s *DB) Deliveries(ctx context.Context, f courier.DeliveryFilter) ([]*courier.Delivery, error) {
	var c conds
	if f.Channel != "" {
		c.add("channel = " + c.arg(f.Channel))
	}
	if f.EndpointID != 0 {
		c.add("endpoint_id = " + c.arg(f.EndpointID))
	}
	if f.DeviceID != 0 {
		c.add("device_id = " + c.arg(f.DeviceID))
	}
	if f.OutboxID != 0 {
		c.add("outbox_id = " + c.arg(f.OutboxID))
	}
	if f.Status != "" {
		c.add("status = " + c.arg(f.Status))
	}
	if f.After != 0 {
		c.add("id > " + c.arg(f.After))
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries` + c.sql() + " ORDER BY id LIMIT " + c.arg(pageLimit(f.Limit))
	return queryAll(ctx, s.read(ctx), "deliveries", scanDelivery, q, c.args...)
}

// DeliveryAttempts returns a delivery's log, oldest first.
func (s *DB) DeliveryAttempts(ctx context.Context, deliveryID int64) ([]courier.DeliveryAttempt, error) {
	scan := func(row rowScanner) (a courier.DeliveryAttempt, err error) {
		var ms int64
		err = row.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &a.Status, &ms, &a.Error, timeScan{&a.At})
		a.Duration = time.Duration(ms) * time.Millisecond
		return a, err
	}
	return queryAll(ctx, s.read(ctx), "delivery attempts", scan, `SELECT id, delivery_id, attempt, status, duration_ms, error, at FROM delivery_attempts
		WHERE delivery_id = $1 ORDER BY id`, deliveryID)
}

// ReplayDelivery makes a delivery that is not pending pending again, due at
// now, with a fresh budget of attempts. Returns ENOTFOUND, ECONFLICT while it is pending.
func (s *DB) ReplayDelivery(ctx context.Context, id int64, now time.Time) (*courier.Delivery, error) {
	now = utc(now)
	var d *courier.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = $1`+s.d.forUpdate, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return courier.Errorf(courier.ENOTFOUND, "delivery %d not found", id)
		} else if err != nil {
			return fmt.Errorf("store: replay delivery %d: %w", id, err)
		}
		if status == courier.DeliveryPending {
			return courier.Errorf(courier.ECONFLICT, "delivery %d is still pending; it will be tried again by itself", id)
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,
			locked_until = NULL, locked_by = '', updated_at = $1 WHERE id = $2 RETURNING `+deliveryColumns, s.d.timeArg(now), id))
		if err != nil {
			return fmt.Errorf("store: replay delivery %d: %w", id, err)
		}
		return nil
	})
	return d, err
}

// PurgeNotifications deletes finished deliveries last touched before before
// (their attempts go with them) and handled outbox messages older than
// before that have no deliveries left.
func (s *DB) PurgeNotifications(ctx context.Context, before time.Time) (deliveries, messages int64, err error) {
	t := s.d.timeArg(utc(before))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE status <> 'pending' AND updated_at < $1`, t)
		if err != nil {
			return fmt.Errorf("store: purge deliveries: %w", err)
		}
		deliveries, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, `DELETE FROM outbox WHERE (sent_at < $1 OR failed_at < $1)
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = outbox.id)`, t)
		if err != nil {
			return fmt.Errorf("store: purge outbox: %w", err)
		}
		messages, _ = res.RowsAffected()
		return nil
	})
	return deliveries, messages, err
}
