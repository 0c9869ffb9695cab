-- Every span, for trace overlays: found by trace id (the first key column), kept for a while after
-- it was written. A span written again (a replay) has the same key and is stored once.
CREATE TABLE IF NOT EXISTS request_spans
(
    trace_id String,
    span_id String,
    parent_span_id String,
    service String,
    cluster String,
    region String,
    kind LowCardinality(String),
    name String,
    start_us UInt64,
    duration_us UInt64,
    error Bool,
    shared_server Bool,
    peer_name String,
    peer_source LowCardinality(String),
    written_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(written_at)
ORDER BY (trace_id, span_id, service, kind, start_us)
TTL toDateTime(written_at) + toIntervalSecond({retention_s:UInt32})
