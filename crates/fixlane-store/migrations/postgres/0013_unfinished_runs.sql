-- Every run's end looks for earlier runs that never finished (to record them as abandoned).
-- Without this index that read went through every run of the store, plans and all, so each
-- run's end grew slower with the store's history; with it, it reads only the unfinished ones.
CREATE INDEX IF NOT EXISTS unfinished_runs ON runs (started_at, run_id) WHERE finished_at IS NULL;
