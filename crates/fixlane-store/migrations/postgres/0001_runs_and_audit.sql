-- fixlane store, PostgreSQL: runs, their gate results, and the hash-chained audit log.
-- Timestamps are RFC 3339 UTC text with nine fractional digits (hashed verbatim), so text order
-- is time order. JSON is kept as TEXT, not JSONB, so it comes back byte for byte.

CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY NOT NULL,
    rev         TEXT NOT NULL,
    branch      TEXT,
    lane        TEXT NOT NULL,
    emergency   BOOLEAN NOT NULL,
    incident    TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    verdict     TEXT CHECK (verdict IN ('green', 'ready', 'waiting', 'blocked')),
    reasons     TEXT NOT NULL DEFAULT '[]',
    plan        TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS runs_by_rev ON runs (rev, lane, started_at);

CREATE TABLE IF NOT EXISTS gate_results (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    gate        TEXT NOT NULL,
    tier        TEXT NOT NULL CHECK (tier IN ('critical', 'required', 'optional')),
    state       TEXT NOT NULL
                CHECK (state IN ('passed', 'failed', 'timed_out', 'cancelled', 'skipped', 'not_run')),
    detail      TEXT,
    exit_code   INTEGER,
    duration_ms BIGINT,
    log_path    TEXT,
    tail        TEXT NOT NULL DEFAULT '[]',
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, gate)
);

CREATE TABLE IF NOT EXISTS audit_log (
    seq           BIGINT PRIMARY KEY NOT NULL CHECK (seq >= 1),
    recorded_at   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    details       TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash          TEXT NOT NULL,
    CONSTRAINT audit_log_seq_unique UNIQUE (seq)
);

-- The chain head, kept apart from the log so a truncated tail is detected. Appends lock this
-- row (SELECT ... FOR UPDATE), which serializes writers across server replicas.
CREATE TABLE IF NOT EXISTS audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000')
ON CONFLICT (id) DO NOTHING;

-- Finds the newest entry of one action (e.g. the last config seen) without scanning the log.
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, seq);
