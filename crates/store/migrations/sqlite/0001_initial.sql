-- Tenure's store, SQLite flavour. Keep in step with ../postgres/0001_initial.sql: the parity test compares the
-- logical schema (tables, columns, nullability, primary keys, foreign keys, indexes) of both.
-- Timestamps are RFC 3339 text in UTC with microseconds ("2026-01-02T03:04:05.000000Z"), JSON is text.

CREATE TABLE policy_revisions (
    hash TEXT NOT NULL PRIMARY KEY,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "trigger" TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'running', 'succeeded', 'failed', 'blocked')),
    policy_revision TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    plan_json TEXT NOT NULL,
    totals_json TEXT
);

CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE steps (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    step_id INTEGER NOT NULL,
    action_kind TEXT NOT NULL,
    worker TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL,
    request_id TEXT,
    object_id TEXT,
    error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE audit_entries (
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
    FOREIGN KEY (run_id, step_id) REFERENCES steps (run_id, step_id)
);

CREATE INDEX audit_entries_by_worker ON audit_entries (worker, id);
CREATE INDEX audit_entries_by_run ON audit_entries (run_id, id);

CREATE TABLE observations (
    tenant TEXT NOT NULL PRIMARY KEY,
    observed_json TEXT NOT NULL,
    delta_links_json TEXT NOT NULL,
    full_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
