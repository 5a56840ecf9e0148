-- Planning jobs and the route sheets they propose. A sheet's stops are a JSON
-- list: a sheet is read and written whole, under its row lock.

CREATE TABLE plans (
	id          {{id}},
	plan_date   TEXT NOT NULL,
	depot_id    BIGINT NOT NULL REFERENCES depots (id),
	order_ids   {{json}} NOT NULL,
	courier_ids {{json}} NOT NULL,
	time_limit_ms BIGINT NOT NULL,
	status      TEXT NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	best_cost   BIGINT NOT NULL DEFAULT 0,
	elapsed_ms  BIGINT NOT NULL DEFAULT 0,
	unassigned  {{json}} NOT NULL,
	unassigned_n BIGINT NOT NULL DEFAULT 0,
	problem     {{json}},
	created_by  BIGINT NOT NULL DEFAULT 0,
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  {{time}} NOT NULL,
	updated_at  {{time}} NOT NULL
);

CREATE TABLE route_sheets (
	id           {{id}},
	plan_id      BIGINT REFERENCES plans (id),
	courier_id   BIGINT NOT NULL REFERENCES couriers (id),
	depot_id     BIGINT NOT NULL REFERENCES depots (id),
	sheet_date   TEXT NOT NULL,
	status       TEXT NOT NULL,
	stops        {{json}} NOT NULL,
	distance_m   BIGINT NOT NULL DEFAULT 0,
	duration_s   BIGINT NOT NULL DEFAULT 0,
	starts_at    {{time}} NOT NULL,
	ends_at      {{time}} NOT NULL,
	version      BIGINT NOT NULL DEFAULT 1,
	published_at {{time}},
	started_at   {{time}},
	created_at   {{time}} NOT NULL,
	updated_at   {{time}} NOT NULL
);
CREATE INDEX route_sheets_plan_idx ON route_sheets (plan_id);
CREATE INDEX route_sheets_courier_date_idx ON route_sheets (courier_id, sheet_date);
CREATE INDEX route_sheets_date_idx ON route_sheets (sheet_date);
