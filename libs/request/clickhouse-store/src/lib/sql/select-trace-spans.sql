SELECT
    trace_id, span_id, parent_span_id, service, cluster, region, kind, name, start_us, duration_us,
    error, shared_server, peer_name, peer_source
FROM request_spans FINAL
WHERE trace_id = {trace_id:String}
ORDER BY start_us, span_id
LIMIT {max_spans:UInt32}
