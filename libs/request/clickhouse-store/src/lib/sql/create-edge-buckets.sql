-- Edge totals per time bucket and writer scope. A writer rewrites a bucket's whole total with a
-- higher version; ReplacingMergeTree keeps the highest version per key, and reads use FINAL, so a
-- replayed or retried write converges instead of adding. Rows of different scopes add up.
CREATE TABLE IF NOT EXISTS request_edge_buckets
(
    granularity LowCardinality(String),
    src String,
    dst String,
    bucket_start_ms UInt64,
    scope LowCardinality(String),
    version UInt64,
    calls UInt64,
    errors UInt64,
    latency_counts Array(UInt64),
    latency_sum_us UInt64,
    operations Map(String, UInt64),
    first_seen_ms UInt64,
    last_seen_ms UInt64,
    written_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY intDiv(bucket_start_ms, 86400000)
ORDER BY (granularity, src, dst, bucket_start_ms, scope)
TTL toDateTime(intDiv(bucket_start_ms, 1000)) + toIntervalSecond({retention_s:UInt32})
