-- The cached observed state moves out of `observations` into a table of its own, so that moving the delta links
-- on (every run whose delta brought nothing) updates a small row: SQLite rewrites a whole row on UPDATE, and with
-- the state in it that meant holding the tens of megabytes of JSON twice in memory and writing them to the WAL
-- again. Keep in step with ../postgres/0004_observation_states.sql.

CREATE TABLE observation_states (
    tenant TEXT NOT NULL PRIMARY KEY REFERENCES observations (tenant),
    observed_json TEXT NOT NULL
);

INSERT INTO observation_states (tenant, observed_json) SELECT tenant, observed_json FROM observations;

ALTER TABLE observations DROP COLUMN observed_json;
