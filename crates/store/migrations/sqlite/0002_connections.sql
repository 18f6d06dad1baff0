-- Connections to Microsoft tenants, their sealed secrets, generated certificates and single-use OAuth states,
-- SQLite flavour. Keep in step with ../postgres/0002_connections.sql (the parity test compares them).
-- Secrets are stored sealed by the vault (a master key id and a ciphertext); the master key is never stored here.

CREATE TABLE connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('entra_delegated', 'entra_app', 'exchange')),
    auth TEXT NOT NULL CHECK (auth IN ('delegated', 'client_secret', 'certificate')),
    cloud TEXT NOT NULL CHECK (cloud IN ('global', 'us-gov-high', 'us-gov-dod', 'china')),
    tenant_id TEXT,
    client_id TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('not_linked', 'waiting_admin_approval', 'connected', 'needs_relink')),
    status_reason TEXT,
    linked_by TEXT,
    linked_at TEXT,
    granted_permissions_json TEXT NOT NULL,
    last_test_json TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE UNIQUE INDEX connections_by_name ON connections (name);

CREATE TABLE connection_secrets (
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    purpose TEXT NOT NULL,
    key_id TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, purpose)
);

CREATE TABLE connection_certificates (
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    sha1_thumbprint TEXT NOT NULL,
    sha256_thumbprint TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (connection_id, sha1_thumbprint)
);

-- At most one active certificate per connection.
CREATE UNIQUE INDEX connection_certificates_one_active ON connection_certificates (connection_id) WHERE active;

CREATE TABLE oauth_states (
    state_hash TEXT NOT NULL PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('link', 'admin_consent')),
    session_binding TEXT NOT NULL,
    verifier_key_id TEXT,
    verifier_ciphertext TEXT,
    redirect_uri TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((verifier_key_id IS NULL) = (verifier_ciphertext IS NULL))
);

CREATE INDEX oauth_states_by_expiry ON oauth_states (expires_at);
