-- One traversal level: edges leaving any frontier node that may have a bucket in the range.
SELECT e.id, e.src, e.dst
FROM json_each(@frontier) AS f
-- CROSS JOIN keeps the frontier as the outer loop, so each node is one index search.
CROSS JOIN edges AS e ON
  e.src = f.value AND e.granularity = @granularity AND e.last_bucket_ms >= @firstStartMs
WHERE e.first_bucket_ms < @toMs
  AND (@includeHops OR e.last_resolved_bucket_ms >= @firstStartMs)
