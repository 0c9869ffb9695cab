-- The engine clause of one of the store's tables, to read back the retention it was created with.
SELECT engine_full
FROM system.tables
WHERE database = currentDatabase() AND name = {table:String}
