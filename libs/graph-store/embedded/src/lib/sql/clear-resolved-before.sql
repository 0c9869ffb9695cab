UPDATE edges SET last_resolved_bucket_ms = NULL WHERE last_resolved_bucket_ms <= @lastDeletableStartMs
