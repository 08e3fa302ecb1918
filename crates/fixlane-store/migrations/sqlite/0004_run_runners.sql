-- Who runs each run (host, boot, pid and process start, as canonical JSON text), so a reader
-- can tell a run still going from one whose runner was killed; and when a run was found
-- abandoned. A table of its own rather than new columns, so the migration stays idempotent
-- (SQLite has no ADD COLUMN IF NOT EXISTS) like every other one.

CREATE TABLE IF NOT EXISTS run_runners (
    run_id       TEXT PRIMARY KEY NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    runner       TEXT NULL,
    abandoned_at TEXT NULL
);
