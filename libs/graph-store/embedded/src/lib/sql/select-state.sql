SELECT write_seq, purge_gen FROM store_state WHERE id = 1
