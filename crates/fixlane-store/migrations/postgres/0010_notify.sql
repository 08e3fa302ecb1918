-- Live views. Every committed audit entry and every canary event (check samples are not audited,
-- but a dashboard shows their latest values) is announced on the channel `fixlane_changes`, so
-- each server replica's listener (LISTEN fixlane_changes) tells its open pages at once, whichever
-- replica or CLI wrote it. PostgreSQL delivers a notification when its transaction commits, and
-- never for one rolled back. Payloads: `audit <seq>` and `canary <id>`; the canary's are alike
-- within a transaction, so a batch of samples is announced once.

CREATE OR REPLACE FUNCTION fixlane_notify_audit() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('fixlane_changes', 'audit ' || NEW.seq::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fixlane_notify_canary() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('fixlane_changes', 'canary ' || NEW.canary_id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_log_notify ON audit_log;
CREATE TRIGGER audit_log_notify AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION fixlane_notify_audit();

DROP TRIGGER IF EXISTS canary_events_notify ON canary_events;
CREATE TRIGGER canary_events_notify AFTER INSERT ON canary_events
    FOR EACH ROW EXECUTE FUNCTION fixlane_notify_canary();

-- The dashboard shows the gates of each emergency's fix: the latest run of its branch.
CREATE INDEX IF NOT EXISTS runs_by_branch ON runs (branch, started_at);
