SELECT id FROM edges WHERE src = @src AND dst = @dst AND granularity = @granularity
