package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	courier "github.com/courierhq/courier"
)

// Webhook endpoints (migration 0007).

const webhookColumns = `id, url, secret, events, description, active, version, created_at, updated_at`

func scanWebhook(row rowScanner) (*courier.WebhookEndpoint, error) {
	var (
		e      courier.WebhookEndpoint
		events string
	)
	if err := row.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Description, &e.Active, &e.Version,
		timeScan{&e.CreatedAt}, timeScan{&e.UpdatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return nil, fmt.Errorf("webhook %d events: %w", e.ID, err)
	}
	if e.Events == nil {
		e.Events = []string{}
	}
	return &e, nil
}

func webhookNotFound(id int64) error {
	return courier.Errorf(courier.ENOTFOUND, "webhook %d not found", id)
}

func encodeEvents(events []string) string {
	if events == nil {
		events = []string{}
	}
	b, _ := json.Marshal(events)
	return string(b)
}

// CreateWebhook inserts e and sets ID, Version 1 and timestamps.
func (s *DB) CreateWebhook(ctx context.Context, e *courier.WebhookEndpoint) error {
	now := s.now()
	err := s.write(ctx, func(q execer) error {
		return q.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, secret, events, description, active, version, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id`, e.URL, e.Secret, encodeEvents(e.Events), e.Description, e.Active,
			s.d.timeArg(now)).Scan(&e.ID)
	})
	if err != nil {
		return fmt.Errorf("store: create webhook: %w", err)
	}
	e.Version, e.CreatedAt, e.UpdatedAt = 1, now, now
	return nil
}

// Webhook returns an endpoint by id. Returns ENOTFOUND.
func (s *DB) Webhook(ctx context.Context, id int64) (*courier.WebhookEndpoint, error) {
	e, err := scanWebhook(s.read(ctx).QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, webhookNotFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("store: webhook %d: %w", id, err)
	}
	return e, nil
}

// ListWebhooks returns every endpoint by id.
func (s *DB) ListWebhooks(ctx context.Context) ([]*courier.WebhookEndpoint, error) {
	return queryAll(ctx, s.read(ctx), "webhooks", scanWebhook, `SELECT `+webhookColumns+` FROM webhook_endpoints ORDER BY id`)
}

// UpdateWebhook reads the endpoint, calls fn and writes it (Version+1) in one
// transaction. Returns ENOTFOUND or fn's error.
func (s *DB) UpdateWebhook(ctx context.Context, id int64, fn func(*courier.WebhookEndpoint) error) (*courier.WebhookEndpoint, error) {
	var e *courier.WebhookEndpoint
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_endpoints WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return webhookNotFound(id)
		} else if err != nil {
			return fmt.Errorf("store: webhook %d: %w", id, err)
		}
		version, created := e.Version, e.CreatedAt
		if err := fn(e); err != nil {
			return err
		}
		e.ID, e.Version, e.CreatedAt, e.UpdatedAt = id, version+1, created, s.now()
		_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, secret = $2, events = $3, description = $4, active = $5,
			version = $6, updated_at = $7 WHERE id = $8`, e.URL, e.Secret, encodeEvents(e.Events), e.Description, e.Active, e.Version,
			s.d.timeArg(e.UpdatedAt), id)
		if err != nil {
			return fmt.Errorf("store: update webhook %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteWebhook deletes an endpoint and its deliveries (their attempts go
// with them). Returns ENOTFOUND.
func (s *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE channel = 'webhook' AND endpoint_id = $1`, id); err != nil {
			return fmt.Errorf("store: delete deliveries of webhook %d: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("store: delete webhook %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return webhookNotFound(id)
		}
		return nil
	})
}
