-- Admin accounts of the web UI and their sign-in sessions, SQLite flavour. Keep in step with
-- ../postgres/0003_admin_accounts.sql (the parity test compares both).
-- Passwords are stored as argon2 PHC strings; a session is stored by the SHA-256 (hex) of its random id, never the
-- id itself, so a copy of the database cannot be used to sign in.

CREATE TABLE admin_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE admin_sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES admin_accounts (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);
CREATE INDEX admin_sessions_by_account ON admin_sessions (account_id);
