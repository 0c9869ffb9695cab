SELECT 1 FROM edges WHERE id = @edgeId
