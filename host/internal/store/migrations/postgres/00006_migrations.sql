-- Migrations ([3/4], [4/4]): a running machine taken from an inventory or
-- from a source backend into a target backend, journaled in the intent log
-- (action migrate, keyed by the migration's uuid) under the same leases and
-- fences as adoptions. The migrations table is what the API shows and keeps
-- once the intent ends. node_claims is the claim on a node uuid while a
-- migration runs (also taken, for a moment, by every adoption): no adoption
-- takes a node a migration holds, and no migration one an adoption does.
-- migration_tombstones remember rolled-back migrations, so the reconciler
-- can undo what a late request left (a target node with the migration's
-- marker, a source node still held). Keep in step with migrations/sqlite.

-- +goose Up
CREATE TABLE migrations (
    uuid            TEXT        NOT NULL,
    -- pending | running | done | failed | rolled_back
    status          TEXT        NOT NULL,
    -- inventory | handoff
    kind            TEXT        NOT NULL,
    source_backend  TEXT        NOT NULL DEFAULT '',
    target_backend  TEXT        NOT NULL,
    -- the node's uuid in the target (the source's own in a handoff)
    node_uuid       TEXT        NOT NULL,
    server_uuid     TEXT,
    -- JSON: the request as the API took it, without secrets
    request         TEXT        NOT NULL,
    -- JSON: what the run needs, resolved (networks, image), without secrets
    plan            TEXT        NOT NULL,
    -- JSON: the steps as they ended (while it runs: its intent's)
    steps           TEXT        NOT NULL,
    idempotency_key TEXT,
    -- sha256 of the request without secrets: the same key with another body is a conflict
    body_hash       TEXT        NOT NULL,
    request_id      TEXT        NOT NULL,
    user_id         TEXT        NOT NULL,
    project_id      TEXT        NOT NULL,
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT migrations_pkey PRIMARY KEY (uuid)
);
CREATE UNIQUE INDEX migrations_idempotency_key_idx ON migrations (idempotency_key)
    WHERE idempotency_key IS NOT NULL AND status <> 'rolled_back';
CREATE INDEX migrations_created_at_idx ON migrations (created_at, uuid);
CREATE INDEX migrations_status_idx ON migrations (status);

CREATE TABLE node_claims (
    node_uuid  TEXT        NOT NULL,
    -- a migration's uuid, or an adoption's server uuid
    holder     TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT node_claims_pkey PRIMARY KEY (node_uuid)
);

CREATE TABLE migration_tombstones (
    migration_uuid   TEXT        NOT NULL,
    target_backend   TEXT        NOT NULL,
    node_uuid        TEXT        NOT NULL,
    source_backend   TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT migration_tombstones_pkey PRIMARY KEY (migration_uuid)
);
CREATE INDEX migration_tombstones_created_at_idx ON migration_tombstones (created_at);

-- An adoption run by a migration (its claim on the node is the
-- migration's); a cancel asked of a migration, read in its step
-- transaction.
ALTER TABLE intents ADD COLUMN migration_uuid TEXT NOT NULL DEFAULT '';
ALTER TABLE intents ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE intents DROP COLUMN cancel_requested;
ALTER TABLE intents DROP COLUMN migration_uuid;
DROP TABLE migration_tombstones;
DROP TABLE node_claims;
DROP TABLE migrations;
