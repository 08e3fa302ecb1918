-- `fixlane stats` reads each lane's latest finished run, to set its wall time against its
-- critical path; without this index that read sorted every run of the store.
CREATE INDEX IF NOT EXISTS runs_by_lane ON runs (lane, started_at);
