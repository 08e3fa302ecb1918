-- fixlane store, SQLite: emergency change records and the team's reviews of the emergency rate.
-- The record itself is a JSON document (canonical text) owned by fixlane-core; the columns beside
-- it are what the store filters and sorts on. Timestamps are fixed-width RFC 3339 UTC text.

CREATE TABLE IF NOT EXISTS emergencies (
    id          TEXT PRIMARY KEY NOT NULL,
    declared_at TEXT NOT NULL,
    author      TEXT NOT NULL,
    drill       BOOLEAN NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    document    TEXT NOT NULL
);

-- Rate limits read every declaration since a moment; listings go newest first.
CREATE INDEX IF NOT EXISTS emergencies_by_declared_at ON emergencies (declared_at);

CREATE TABLE IF NOT EXISTS rate_reviews (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    notes    TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS rate_reviews_by_at ON rate_reviews (at, seq);
