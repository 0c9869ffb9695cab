SELECT id, src, dst
FROM edges
WHERE granularity = @granularity AND last_bucket_ms >= @firstStartMs AND first_bucket_ms < @toMs
  AND (@includeHops OR last_resolved_bucket_ms >= @firstStartMs)
