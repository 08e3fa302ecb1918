-- Webhooks. The audit append writes an outbox row for every action a team may hear about, in
-- the same transaction as the action, so no event is announced that did not happen and none
-- that happened is lost. Each configured webhook's delivery of a row is tracked apart: claimed
-- by one drainer at a time (a lease), retried with backoff, given up after a bounded number of
-- attempts, and delivered once. A follow-up's overdue notice is kept apart so it is announced once.
-- Timestamps are fixed-width RFC 3339 UTC text.

CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY NOT NULL,
    action     TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS outbox_by_created ON outbox (created_at);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    seq             INTEGER NOT NULL REFERENCES outbox (seq),
    hook            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT NULL,
    delivered_at    TEXT NULL,
    gave_up_at      TEXT NULL,
    last_error      TEXT NULL,
    PRIMARY KEY (seq, hook)
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_pending
    ON webhook_deliveries (hook, next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;

CREATE TABLE IF NOT EXISTS followup_overdue_notices (
    incident TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    noted_at TEXT NOT NULL,
    PRIMARY KEY (incident, seq),
    FOREIGN KEY (incident, seq) REFERENCES followups (incident, seq) ON DELETE CASCADE
);
