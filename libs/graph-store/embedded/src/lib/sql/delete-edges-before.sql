-- last_bucket_ms is the newest bucket ever written, so these edges have no bucket left.
DELETE FROM edges WHERE last_bucket_ms <= @lastDeletableStartMs
