-- A step may now be `waiting`: an Exchange step whose mailbox was not provisioned (or not yet shown as shared)
-- within the run's wait budget, and the steps that depend on it. Keep in step with
-- ../postgres/0005_waiting_steps.sql.
--
-- SQLite cannot change a CHECK constraint in place, so `steps` is rebuilt. `audit_entries` refers to `steps` and
-- is rebuilt with it: the copies are made first (the new audit table refers to the new steps table), then the
-- old tables are dropped (child first, so no foreign key dangles inside the transaction) and the new ones
-- renamed; renaming `steps_new` rewrites the reference in `audit_entries_new` (SQLite 3.26 and later).

CREATE TABLE steps_new (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    step_id INTEGER NOT NULL,
    action_kind TEXT NOT NULL,
    worker TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'waiting')),
    attempts INTEGER NOT NULL,
    request_id TEXT,
    object_id TEXT,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

INSERT INTO steps_new (run_id, step_id, action_kind, worker, status, attempts, request_id, object_id, error, updated_at)
SELECT run_id, step_id, action_kind, worker, status, attempts, request_id, object_id, error, updated_at FROM steps;

CREATE TABLE audit_entries_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    step_id INTEGER NOT NULL,
    worker TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    reason TEXT NOT NULL,
    policy_revision TEXT NOT NULL,
    at TEXT NOT NULL,
    FOREIGN KEY (run_id, step_id) REFERENCES steps_new (run_id, step_id)
);

INSERT INTO audit_entries_new
    (id, run_id, step_id, worker, action, target, before_json, after_json, reason, policy_revision, at)
SELECT id, run_id, step_id, worker, action, target, before_json, after_json, reason, policy_revision, at
FROM audit_entries;

DROP TABLE audit_entries;
DROP TABLE steps;
ALTER TABLE steps_new RENAME TO steps;
ALTER TABLE audit_entries_new RENAME TO audit_entries;

CREATE INDEX audit_entries_by_worker ON audit_entries (worker, id);
CREATE INDEX audit_entries_by_run ON audit_entries (run_id, id);
