-- An edge endpoint: created from its id when unknown, otherwise only its seen times widen.
INSERT INTO nodes (id, kind, granularity, display_name, health, first_seen_ms, last_seen_ms, seq)
VALUES (@id, @kind, @granularity, @displayName, 'unknown', @firstSeenMs, @lastSeenMs, @seq)
ON CONFLICT (id) DO UPDATE SET
  first_seen_ms = min(first_seen_ms, excluded.first_seen_ms),
  last_seen_ms  = max(last_seen_ms, excluded.last_seen_ms),
  seq           = excluded.seq
