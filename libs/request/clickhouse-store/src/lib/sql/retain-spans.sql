ALTER TABLE request_spans
    MODIFY TTL toDateTime(written_at) + toIntervalSecond({retention_s:UInt32})
