-- Refresh-token families: one per login (a session on one device). The
-- family's refresh token is rotated on every use and only the newest one
-- (current_jti) is accepted; presenting an older, spent one revokes the whole
-- family (OAuth 2.0 Security Best Current Practice, refresh token rotation).
-- Every replica reads the same rows, so a token spent on one is spent on all.

CREATE TABLE refresh_families (
	id          TEXT PRIMARY KEY,
	user_id     BIGINT NOT NULL REFERENCES users(id),
	current_jti TEXT NOT NULL,
	expires_at  {{time}} NOT NULL,
	revoked_at  {{time}},
	created_at  {{time}} NOT NULL,
	rotated_at  {{time}} NOT NULL
);

CREATE INDEX refresh_families_user ON refresh_families (user_id);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);
