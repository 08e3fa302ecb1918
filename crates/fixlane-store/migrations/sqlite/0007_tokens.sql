-- Per-person tokens for the team server. Only the SHA-256 of a token's text is kept (hex), never
-- the token: a copy of the database authenticates nobody. A token is never deleted, so `token
-- list` and the audit log keep naming it; revoking one stamps `revoked_at`. Timestamps are
-- fixed-width RFC 3339 UTC text; `expires_at` is NULL for a token that lives until revoked.

CREATE TABLE IF NOT EXISTS tokens (
    id         TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    issued_by  TEXT NOT NULL,
    expires_at TEXT NULL,
    revoked_at TEXT NULL,
    revoked_by TEXT NULL
);

-- `token revoke PERSON` revokes every live token of one person.
CREATE INDEX IF NOT EXISTS tokens_by_person ON tokens (person);
