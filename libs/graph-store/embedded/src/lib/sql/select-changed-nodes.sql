SELECT id, kind, granularity, display_name, app, cluster, account, tier, domain, owner, region,
       health, first_seen_ms, last_seen_ms, intermediary_type, unknown_reason, address, reports_ipc_metrics
FROM nodes
WHERE seq > @sinceSeq
LIMIT @limit
