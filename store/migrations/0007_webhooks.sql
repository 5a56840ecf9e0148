-- Webhook endpoints of the shop and the accounting system. Their deliveries
-- are rows of deliveries (0006) with channel 'webhook' and endpoint_id set.

CREATE TABLE webhook_endpoints (
	id          {{id}},
	url         TEXT NOT NULL,
	secret      TEXT NOT NULL,
	events      {{json}} NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	active      BOOLEAN NOT NULL DEFAULT TRUE,
	version     BIGINT NOT NULL DEFAULT 1,
	created_at  {{time}} NOT NULL,
	updated_at  {{time}} NOT NULL
);
