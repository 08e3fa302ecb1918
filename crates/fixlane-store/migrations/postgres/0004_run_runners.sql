-- Who runs each run (host, boot, pid and process start, as JSON text), so a reader can tell a
-- run still going from one whose runner was killed; and when a run was found abandoned.
ALTER TABLE runs ADD COLUMN runner TEXT NULL;
ALTER TABLE runs ADD COLUMN abandoned_at TEXT NULL;
