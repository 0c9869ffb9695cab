SELECT
    id,
    kind,
    max(granularity) AS granularity,
    max(display_name) AS display_name,
    max(app) AS app,
    max(cluster) AS cluster,
    max(region) AS region,
    min(first_seen_ms) AS first_seen_ms,
    max(last_seen_ms) AS last_seen_ms,
    toUnixTimestamp64Milli(max(written_at)) AS written_ms
FROM request_nodes
GROUP BY id, kind
HAVING max(written_at) >= fromUnixTimestamp64Milli({since_ms:Int64})
