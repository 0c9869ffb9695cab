DELETE FROM deleted_buckets
