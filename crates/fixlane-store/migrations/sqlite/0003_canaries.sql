-- fixlane store, SQLite: canary runs and every event they produced, check samples included.
-- Plans and event data are canonical JSON text; timestamps are fixed-width RFC 3339 UTC text.
-- `audited` says whether the event also has an entry in the audit log (state changes do, plain
-- samples do not).

CREATE TABLE IF NOT EXISTS canaries (
    id          TEXT PRIMARY KEY NOT NULL,
    incident    TEXT NULL,
    rev         TEXT NOT NULL,
    profile     TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT NULL,
    outcome     TEXT NULL,
    plan        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS canaries_by_incident ON canaries (incident, started_at);

CREATE TABLE IF NOT EXISTS canary_events (
    canary_id TEXT NOT NULL REFERENCES canaries (id),
    seq       INTEGER NOT NULL CHECK (seq >= 1),
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    audited   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (canary_id, seq)
);
