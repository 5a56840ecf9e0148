-- The cash desk: an append-only double-entry ledger, cashier shifts,
-- settlements of route sheets, and goods checked back in.

CREATE TABLE cash_shifts (
	id           {{id}},
	cashier_id   BIGINT NOT NULL REFERENCES users (id),
	depot_id     BIGINT NOT NULL REFERENCES depots (id),
	status       TEXT NOT NULL,
	opened_at    {{time}} NOT NULL,
	opened_token TEXT NOT NULL DEFAULT '',
	closed_at    {{time}},
	closed_by    BIGINT NOT NULL DEFAULT 0,
	closed_token TEXT NOT NULL DEFAULT '',
	note         TEXT NOT NULL DEFAULT '',
	report       {{json}},
	version      BIGINT NOT NULL DEFAULT 1
);
-- A cashier has at most one open shift.
CREATE UNIQUE INDEX cash_shifts_open_key ON cash_shifts (cashier_id) WHERE status = 'open';
CREATE INDEX cash_shifts_depot_idx ON cash_shifts (depot_id, opened_at);

-- Append-only: the store inserts ledger rows and never updates or deletes them.
-- The rows of one tx_id sum to zero per currency and share depot_id and at.
-- amount is signed: positive debit, negative credit, minor units (or pieces for PCS).
CREATE TABLE ledger_entries (
	id         {{id}},
	tx_id      TEXT NOT NULL,
	account    TEXT NOT NULL,
	amount     BIGINT NOT NULL CHECK (amount <> 0),
	currency   TEXT NOT NULL,
	courier_id BIGINT REFERENCES couriers (id),
	order_id   BIGINT REFERENCES orders (id),
	sheet_id   BIGINT REFERENCES route_sheets (id),
	depot_id   BIGINT REFERENCES depots (id),
	shift_id   BIGINT REFERENCES cash_shifts (id),
	kind       TEXT NOT NULL,
	actor_id   BIGINT NOT NULL DEFAULT 0,
	token_id   TEXT NOT NULL DEFAULT '',
	at         {{time}} NOT NULL,
	note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ledger_entries_tx_idx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, currency);
CREATE INDEX ledger_entries_courier_idx ON ledger_entries (courier_id, id);
CREATE INDEX ledger_entries_order_idx ON ledger_entries (order_id);
CREATE INDEX ledger_entries_sheet_idx ON ledger_entries (sheet_id);
CREATE INDEX ledger_entries_depot_at_idx ON ledger_entries (depot_id, at);
CREATE INDEX ledger_entries_shift_idx ON ledger_entries (shift_id);

-- A settlement and its Idempotency-Key: a retried request finds it here,
-- even when the server died before answering.
CREATE TABLE cash_settlements (
	id            {{id}},
	sheet_id      BIGINT NOT NULL REFERENCES route_sheets (id),
	courier_id    BIGINT NOT NULL REFERENCES couriers (id),
	depot_id      BIGINT NOT NULL REFERENCES depots (id),
	shift_id      BIGINT NOT NULL REFERENCES cash_shifts (id),
	currency      TEXT NOT NULL,
	expected      BIGINT NOT NULL,
	counted       BIGINT NOT NULL,
	denominations {{json}} NOT NULL,
	orders        {{json}} NOT NULL,
	note          TEXT NOT NULL DEFAULT '',
	tx_id         TEXT NOT NULL,
	cashier_id    BIGINT NOT NULL,
	token_id      TEXT NOT NULL DEFAULT '',
	idem_scope    TEXT NOT NULL,
	idem_key      TEXT NOT NULL,
	request_hash  TEXT NOT NULL,
	created_at    {{time}} NOT NULL
);
CREATE UNIQUE INDEX cash_settlements_idem_key ON cash_settlements (idem_scope, idem_key);
CREATE INDEX cash_settlements_sheet_idx ON cash_settlements (sheet_id);
CREATE INDEX cash_settlements_shift_idx ON cash_settlements (shift_id);
CREATE INDEX cash_settlements_courier_idx ON cash_settlements (courier_id);

-- Pieces of goods of failed or refused orders checked back in at the depot.
CREATE TABLE returned_items (
	id         {{id}},
	order_id   BIGINT NOT NULL REFERENCES orders (id),
	sheet_id   BIGINT NOT NULL REFERENCES route_sheets (id),
	item_index INTEGER NOT NULL,
	piece      INTEGER NOT NULL,
	barcode    TEXT NOT NULL DEFAULT '',
	actor_id   BIGINT NOT NULL DEFAULT 0,
	token_id   TEXT NOT NULL DEFAULT '',
	at         {{time}} NOT NULL
);
CREATE UNIQUE INDEX returned_items_piece_key ON returned_items (order_id, item_index, piece);
CREATE INDEX returned_items_sheet_idx ON returned_items (sheet_id);
