-- Game days. `fixlane drill` runs the whole emergency lifecycle in a scratch sandbox whose store
-- holds the one `drill_sandbox` row, so every emergency declared there is a drill (and never
-- counts toward a rate limit); the repository's own store keeps each drill's result in
-- `drills`, so `fixlane stats` knows when the emergency lane was last exercised.
-- Timestamps are fixed-width RFC 3339 UTC text; the summary is canonical JSON text.

CREATE TABLE IF NOT EXISTS drill_sandbox (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS drills (
    id          TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    regression  BOOLEAN NOT NULL,
    passed      BOOLEAN NOT NULL,
    summary     TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS drills_by_finished ON drills (finished_at);
