-- Files created before nodes kept whether an app reports IPC metrics: no app is known to, yet.
ALTER TABLE nodes ADD COLUMN reports_ipc_metrics INTEGER NOT NULL DEFAULT 0
