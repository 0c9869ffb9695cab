-- A node that still ends an edge stays, so every edge keeps both endpoints.
DELETE FROM nodes
WHERE last_seen_ms < @beforeMs
  AND NOT EXISTS (SELECT 1 FROM edges WHERE edges.src = nodes.id)
  AND NOT EXISTS (SELECT 1 FROM edges WHERE edges.dst = nodes.id)
