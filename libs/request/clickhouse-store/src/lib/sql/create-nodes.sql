-- Nodes the request layer has seen. Every column folds by min or max, so writing a node twice, or
-- in any order, gives the same row: no version is needed.
CREATE TABLE IF NOT EXISTS request_nodes
(
    id String,
    kind LowCardinality(String),
    granularity SimpleAggregateFunction(max, String),
    display_name SimpleAggregateFunction(max, String),
    app SimpleAggregateFunction(max, String),
    cluster SimpleAggregateFunction(max, String),
    region SimpleAggregateFunction(max, String),
    first_seen_ms SimpleAggregateFunction(min, UInt64),
    last_seen_ms SimpleAggregateFunction(max, UInt64),
    written_at SimpleAggregateFunction(max, DateTime64(3)) DEFAULT now64(3)
)
ENGINE = AggregatingMergeTree
ORDER BY (id, kind)
TTL toDateTime(intDiv(last_seen_ms, 1000)) + toIntervalSecond({retention_s:UInt32})
