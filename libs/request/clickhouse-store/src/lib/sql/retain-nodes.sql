ALTER TABLE request_nodes
    MODIFY TTL toDateTime(intDiv(last_seen_ms, 1000)) + toIntervalSecond({retention_s:UInt32})
