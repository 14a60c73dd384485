-- Adopted servers. node_uuid is UNIQUE: the constraint is the claim on a
-- node, so two requests (or two hosts) adopting one node cannot both win.
-- Constraint names are matched by the store's error mapping; keep them in
-- step with migrations/sqlite.

-- +goose Up
CREATE TABLE servers (
    uuid              TEXT        NOT NULL,
    name              TEXT        NOT NULL,
    description       TEXT,
    node_uuid         TEXT        NOT NULL,
    node_name         TEXT,
    image_uuid        TEXT,
    flavor_uuid       TEXT,
    status            TEXT        NOT NULL,
    power_state       TEXT        NOT NULL,
    locked            BOOLEAN     NOT NULL DEFAULT FALSE,
    project_id        TEXT        NOT NULL,
    user_id           TEXT        NOT NULL,
    availability_zone TEXT,
    affinity_zone     TEXT,
    key_name          TEXT,
    -- JSON text; NULL when the Go map is nil.
    metadata          TEXT,
    system_metadata   TEXT,
    addresses         TEXT,
    partitions        TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    launched_at       TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    CONSTRAINT servers_pkey PRIMARY KEY (uuid),
    CONSTRAINT servers_node_uuid_key UNIQUE (node_uuid)
);

-- ListServers pages in (created_at, uuid) order, optionally per project.
CREATE INDEX servers_created_at_uuid_idx ON servers (created_at, uuid);
CREATE INDEX servers_project_id_created_at_uuid_idx ON servers (project_id, created_at, uuid);

-- +goose Down
DROP TABLE servers;
