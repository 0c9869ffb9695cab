-- One file per layer. Node ids are the model's `<kind>:<name>` strings; edges get an integer id that
-- their buckets reference. Bucket payloads are the layer's JSON, folded in the process that reads.

CREATE TABLE IF NOT EXISTS store_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- write_seq numbers write transactions; every node, edge and bucket row carries the seq that last
-- wrote it, so a reader asks for `seq > last seen` to learn what went stale in its caches.
-- purge_gen changes when retention deletes, which drops every cache.
CREATE TABLE IF NOT EXISTS store_state (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  write_seq INTEGER NOT NULL,
  purge_gen INTEGER NOT NULL
);
INSERT OR IGNORE INTO store_state (id, write_seq, purge_gen) VALUES (1, 0, 0);

CREATE TABLE IF NOT EXISTS nodes (
  id                TEXT PRIMARY KEY,
  kind              TEXT NOT NULL,
  granularity       TEXT,
  display_name      TEXT NOT NULL,
  app               TEXT,
  cluster           TEXT,
  account           TEXT,
  tier              TEXT,
  domain            TEXT,
  owner             TEXT,
  region            TEXT,
  health            TEXT NOT NULL,
  first_seen_ms     INTEGER NOT NULL,
  last_seen_ms      INTEGER NOT NULL,
  intermediary_type TEXT,
  unknown_reason    TEXT,
  address           TEXT,
  seq               INTEGER NOT NULL,
  -- 1 once an upsert said the app reports IPC metrics of its own; never set back to 0.
  reports_ipc_metrics INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nodes_by_last_seen ON nodes (last_seen_ms);
CREATE INDEX IF NOT EXISTS nodes_by_seq ON nodes (seq);

-- first/last_bucket_ms and last_resolved_bucket_ms (newest bucket that is not a hop) summarise the
-- buckets so traversal can skip edges with nothing in the range without touching edge_buckets.
-- They may be wider than the buckets that remain (a replaced bucket), never narrower: the fold
-- over the range decides exactly.
CREATE TABLE IF NOT EXISTS edges (
  -- AUTOINCREMENT: an id is never reused, so a reader's cache cannot mistake a new edge for a deleted one.
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  src                     TEXT NOT NULL,
  dst                     TEXT NOT NULL,
  granularity             TEXT NOT NULL,
  first_bucket_ms         INTEGER NOT NULL,
  last_bucket_ms          INTEGER NOT NULL,
  last_resolved_bucket_ms INTEGER,
  seq                     INTEGER NOT NULL,
  UNIQUE (src, dst, granularity)
);
CREATE INDEX IF NOT EXISTS edges_by_seq ON edges (seq);
CREATE INDEX IF NOT EXISTS edges_out ON edges (src, granularity, last_bucket_ms);
CREATE INDEX IF NOT EXISTS edges_in ON edges (dst, granularity, last_bucket_ms);
CREATE INDEX IF NOT EXISTS edges_by_time ON edges (granularity, last_bucket_ms);

CREATE TABLE IF NOT EXISTS edge_buckets (
  edge_id         INTEGER NOT NULL,
  bucket_start_ms INTEGER NOT NULL,
  hop             INTEGER NOT NULL,
  first_seen_ms   INTEGER NOT NULL,
  last_seen_ms    INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  payload         TEXT NOT NULL,
  PRIMARY KEY (edge_id, bucket_start_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edge_buckets_by_seq ON edge_buckets (seq);
CREATE INDEX IF NOT EXISTS edge_buckets_by_start ON edge_buckets (bucket_start_ms);

-- Buckets removed one by one (withdrawn), so readers drop the folds that held them. Retention
-- empties it: it makes every reader drop its whole cache anyway.
CREATE TABLE IF NOT EXISTS deleted_buckets (
  edge_id         INTEGER NOT NULL,
  bucket_start_ms INTEGER NOT NULL,
  seq             INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deleted_buckets_by_seq ON deleted_buckets (seq);
