DELETE FROM edges WHERE id = @edgeId AND NOT EXISTS (SELECT 1 FROM edge_buckets WHERE edge_id = @edgeId)
