-- A user's token version: refresh tokens carry it, and bumping it (a logout,
-- a new password, deactivation, another role) revokes every refresh token.

ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
