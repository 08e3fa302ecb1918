-- Dashboard sessions: a person logs in to the web pages with their token and gets a session
-- cookie instead, so the browser never keeps the token. Only the SHA-256 of a session's secret
-- is stored (a copy of the database opens no session); `id` is its public part, the first 12
-- digits of that hash, as the audit log names it. A session is never deleted: logging out stamps
-- `ended_at`. It lives until `expires_at`, and only while its token is live. Timestamps are
-- fixed-width RFC 3339 UTC text.

CREATE TABLE IF NOT EXISTS sessions (
    sha256     TEXT PRIMARY KEY NOT NULL,
    id         TEXT NOT NULL,
    token_id   TEXT NOT NULL REFERENCES tokens (id),
    person     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT NULL
);
