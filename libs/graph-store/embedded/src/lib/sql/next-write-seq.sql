UPDATE store_state SET write_seq = write_seq + 1 WHERE id = 1 RETURNING write_seq
