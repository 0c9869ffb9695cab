UPDATE store_state SET purge_gen = purge_gen + 1, write_seq = write_seq + 1 WHERE id = 1
