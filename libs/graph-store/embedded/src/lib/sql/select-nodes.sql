SELECT n.id, n.kind, n.granularity, n.display_name, n.app, n.cluster, n.account, n.tier, n.domain, n.owner, n.region,
       n.health, n.first_seen_ms, n.last_seen_ms, n.intermediary_type, n.unknown_reason, n.address, n.reports_ipc_metrics
FROM json_each(@ids) AS wanted
CROSS JOIN nodes AS n ON n.id = wanted.value
