-- Live views. A SQLite store has one server at most, and the CLI writes the same file from other
-- processes, so there is nothing to announce changes with: the server polls the audit head and
-- the newest canary event instead (twice a second, only while a page is open). This migration
-- keeps the version numbers of both databases aligned and adds what the dashboard reads.

-- The dashboard shows the gates of each emergency's fix: the latest run of its branch.
CREATE INDEX IF NOT EXISTS runs_by_branch ON runs (branch, started_at);
