-- Merge: first seen keeps the minimum, last seen the maximum, reports_ipc_metrics the maximum (once
-- reported, it stays), a given field replaces, an absent one (NULL) stays.
INSERT INTO nodes (
  id, kind, granularity, display_name, app, cluster, account, tier, domain, owner, region, health,
  first_seen_ms, last_seen_ms, intermediary_type, unknown_reason, address, seq, reports_ipc_metrics
) VALUES (
  @id, @kind, @granularity, @displayName, @app, @cluster, @account, @tier, @domain, @owner, @region, coalesce(@health, 'unknown'),
  @firstSeenMs, @lastSeenMs, @intermediaryType, @unknownReason, @address, @seq, @reportsIpcMetrics
)
ON CONFLICT (id) DO UPDATE SET
  kind              = excluded.kind,
  granularity       = coalesce(excluded.granularity, granularity),
  display_name      = excluded.display_name,
  app               = coalesce(excluded.app, app),
  cluster           = coalesce(excluded.cluster, cluster),
  account           = coalesce(excluded.account, account),
  tier              = coalesce(excluded.tier, tier),
  domain            = coalesce(excluded.domain, domain),
  owner             = coalesce(excluded.owner, owner),
  region            = coalesce(excluded.region, region),
  health            = coalesce(@health, health),
  first_seen_ms     = min(first_seen_ms, excluded.first_seen_ms),
  last_seen_ms      = max(last_seen_ms, excluded.last_seen_ms),
  intermediary_type = coalesce(excluded.intermediary_type, intermediary_type),
  unknown_reason    = coalesce(excluded.unknown_reason, unknown_reason),
  address           = coalesce(excluded.address, address),
  seq               = excluded.seq,
  reports_ipc_metrics = max(reports_ipc_metrics, excluded.reports_ipc_metrics)
