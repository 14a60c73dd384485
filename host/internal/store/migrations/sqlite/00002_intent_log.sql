-- The intent log of [4/8]: every adoption (and release) records each step
-- before it acts, so a host killed at any moment is repaired at the next
-- start. Tombstones remember rolled-back server uuids with their node, so
-- the reconciler can release a node that a late request claimed for one.
-- Keep in step with migrations/postgres; times are TEXT as in 00001.

-- +goose Up
CREATE TABLE intents (
    server_uuid      TEXT        NOT NULL,
    node_uuid        TEXT        NOT NULL,
    -- manage | unmanage
    action           TEXT        NOT NULL,
    -- running | retry
    state            TEXT        NOT NULL,
    -- JSON list of the steps started, each with what its undo needs.
    steps            TEXT        NOT NULL,
    request_id       TEXT        NOT NULL,
    user_id          TEXT        NOT NULL,
    project_id       TEXT        NOT NULL,
    -- The replica running it ([DEFAULT] host) and until when it is its.
    owner            TEXT        NOT NULL,
    lease_expires_at TEXT        NOT NULL,
    last_error       TEXT,
    created_at       TEXT        NOT NULL,
    updated_at       TEXT        NOT NULL,
    CONSTRAINT intents_pkey PRIMARY KEY (server_uuid)
) STRICT;
CREATE INDEX intents_owner_idx ON intents (owner);
CREATE INDEX intents_lease_expires_at_idx ON intents (lease_expires_at);

CREATE TABLE tombstones (
    server_uuid TEXT        NOT NULL,
    node_uuid   TEXT        NOT NULL,
    created_at  TEXT        NOT NULL,
    CONSTRAINT tombstones_pkey PRIMARY KEY (server_uuid)
) STRICT;
CREATE INDEX tombstones_created_at_idx ON tombstones (created_at);

-- The Neutron ports an adoption bound, with their previous binding (JSON),
-- so that unmanage restores them; and why a server is in error.
ALTER TABLE servers ADD COLUMN bindings TEXT;
ALTER TABLE servers ADD COLUMN fault TEXT;

-- +goose Down
ALTER TABLE servers DROP COLUMN fault;
ALTER TABLE servers DROP COLUMN bindings;
DROP TABLE tombstones;
DROP TABLE intents;
