-- Post-emergency follow-ups: each emergency's backfill, cleanup, postmortem, audit review and
-- regressions, with an owner and a deadline, open until closed with their evidence. Numbered in
-- opening order per emergency (a follow-up is never deleted, so the number never moves).
-- Timestamps are fixed-width RFC 3339 UTC text; the evidence is canonical JSON text.

CREATE TABLE IF NOT EXISTS followups (
    incident  TEXT NOT NULL REFERENCES emergencies (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL
              CHECK (kind IN ('backfill', 'cleanup', 'postmortem', 'audit-review', 'regression')),
    owner     TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    due_at    TEXT NOT NULL,
    closed_at TEXT NULL,
    closed_by TEXT NULL,
    evidence  TEXT NOT NULL,
    PRIMARY KEY (incident, seq)
);

-- `fixlane due` reads the open ones, soonest deadline first, across every emergency.
CREATE INDEX IF NOT EXISTS followups_open_by_due ON followups (due_at) WHERE closed_at IS NULL;
