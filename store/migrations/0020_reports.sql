-- Reports: tariff versions and how each order's fee was priced, couriers'
-- pay rules and closed pay periods, every finished stop attempt as it was,
-- and the distance of each shift's GPS track.

-- Tariff versions set through the API; the version is the id. based_on is
-- the version an admin changed (0 for the first): unique, so two concurrent
-- changes of one version cannot both win.
CREATE TABLE tariffs (
	id         {{id}},
	based_on   BIGINT NOT NULL,
	rules      {{json}} NOT NULL,
	created_by BIGINT NOT NULL DEFAULT 0,
	created_at {{time}} NOT NULL
);
CREATE UNIQUE INDEX tariffs_based_on_key ON tariffs (based_on);

-- The tariff version and the parts of the fee: {"version": N, "components": [...]}.
ALTER TABLE orders ADD COLUMN fee_quote {{json}};

-- Append-only: one row per finished attempt at a stop. early_min and
-- late_min say how a delivery kept its window (NULL: not delivered, or no
-- window); weights are whole grams, so reports sum them exactly in SQL.
CREATE TABLE stop_attempts (
	id             {{id}},
	order_id       BIGINT NOT NULL REFERENCES orders (id),
	attempt        INTEGER NOT NULL,
	external_id    TEXT NOT NULL DEFAULT '',
	courier_id     BIGINT NOT NULL REFERENCES couriers (id),
	vehicle_type   TEXT NOT NULL DEFAULT '',
	sheet_id       BIGINT REFERENCES route_sheets (id),
	depot_id       BIGINT,
	zone_id        BIGINT,
	work_date      TEXT NOT NULL,
	outcome        TEXT NOT NULL,
	fail_reason    TEXT NOT NULL DEFAULT '',
	refused_pieces BIGINT NOT NULL DEFAULT 0,
	finished_at    {{time}} NOT NULL,
	window_from    {{time}},
	window_to      {{time}},
	early_min      INTEGER,
	late_min       INTEGER,
	weight_g       BIGINT NOT NULL DEFAULT 0,
	currency       TEXT NOT NULL,
	paid_by        TEXT NOT NULL DEFAULT '',
	amount_due     BIGINT NOT NULL DEFAULT 0,
	collected      BIGINT NOT NULL DEFAULT 0,
	collected_by   TEXT NOT NULL DEFAULT '',
	fee            BIGINT NOT NULL DEFAULT 0,
	fee_quote      {{json}}
);
CREATE UNIQUE INDEX stop_attempts_order_key ON stop_attempts (order_id, attempt);
CREATE INDEX stop_attempts_date_idx ON stop_attempts (work_date, courier_id);
CREATE INDEX stop_attempts_courier_idx ON stop_attempts (courier_id, work_date);

-- Pay rules: a courier's own (courier_id) or a vehicle type's; never changed,
-- a later rule of the same scope takes over from its date.
CREATE TABLE pay_rules (
	id             {{id}},
	courier_id     BIGINT REFERENCES couriers (id),
	vehicle_type   TEXT NOT NULL DEFAULT '',
	effective_from TEXT NOT NULL,
	currency       TEXT NOT NULL,
	per_delivered  BIGINT NOT NULL DEFAULT 0,
	per_failed     BIGINT NOT NULL DEFAULT 0,
	per_km         BIGINT NOT NULL DEFAULT 0,
	per_kg         BIGINT NOT NULL DEFAULT 0,
	per_shift      BIGINT NOT NULL DEFAULT 0,
	min_per_shift  BIGINT NOT NULL DEFAULT 0,
	note           TEXT NOT NULL DEFAULT '',
	created_by     BIGINT NOT NULL DEFAULT 0,
	created_at     {{time}} NOT NULL
);

-- Closed pay periods follow each other; pay_state holds the last paid-out
-- day in its one row, which adding a pay rule and closing a period lock.
CREATE TABLE pay_periods (
	id         {{id}},
	date_from  TEXT NOT NULL,
	date_to    TEXT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	closed_by  BIGINT NOT NULL DEFAULT 0,
	closed_at  {{time}} NOT NULL
);
CREATE UNIQUE INDEX pay_periods_from_key ON pay_periods (date_from);

CREATE TABLE pay_state (
	id           INTEGER PRIMARY KEY,
	paid_through TEXT NOT NULL DEFAULT ''
);
INSERT INTO pay_state (id, paid_through) VALUES (1, '');

-- The distance of the shift's GPS track, metres; NULL while unknown.
ALTER TABLE courier_shifts ADD COLUMN driven_m BIGINT;
