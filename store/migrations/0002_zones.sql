-- Delivery zones: a GeoJSON Polygon or MultiPolygon each, kept as sent.

CREATE TABLE zones (
	id          {{id}},
	name        TEXT NOT NULL,
	color       TEXT NOT NULL,
	kind        TEXT NOT NULL,
	geometry    {{json}} NOT NULL,
	valid_from  TEXT NOT NULL DEFAULT '',
	valid_to    TEXT NOT NULL DEFAULT '',
	weekdays    {{json}} NOT NULL,
	hours_from  TEXT NOT NULL DEFAULT '',
	hours_to    TEXT NOT NULL DEFAULT '',
	courier_ids {{json}} NOT NULL,
	base_fee    BIGINT,
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  {{time}} NOT NULL,
	updated_at  {{time}} NOT NULL
);
