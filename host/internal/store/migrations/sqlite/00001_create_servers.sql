-- Adopted servers. node_uuid is UNIQUE: the constraint is the claim on a
-- node, so two concurrent requests adopting one node cannot both win.
-- SQLite reports a unique violation by column (servers.node_uuid,
-- servers.uuid), which the store's error mapping matches; the constraint
-- names are those of migrations/postgres.
-- Times are TEXT in a fixed-width UTC form (2006-01-02T15:04:05.000000Z), so
-- they sort as the times do. STRICT makes SQLite enforce the column types.

-- +goose Up
CREATE TABLE servers (
    uuid              TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    description       TEXT,
    node_uuid         TEXT    NOT NULL,
    node_name         TEXT,
    image_uuid        TEXT,
    flavor_uuid       TEXT,
    status            TEXT    NOT NULL,
    power_state       TEXT    NOT NULL,
    locked            INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    project_id        TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    availability_zone TEXT,
    affinity_zone     TEXT,
    key_name          TEXT,
    -- JSON text; NULL when the Go map is nil.
    metadata          TEXT,
    system_metadata   TEXT,
    addresses         TEXT,
    partitions        TEXT,
    created_at        TEXT    NOT NULL,
    launched_at       TEXT,
    updated_at        TEXT,
    CONSTRAINT servers_pkey PRIMARY KEY (uuid),
    CONSTRAINT servers_node_uuid_key UNIQUE (node_uuid)
) STRICT;

-- ListServers pages in (created_at, uuid) order, optionally per project.
CREATE INDEX servers_created_at_uuid_idx ON servers (created_at, uuid);
CREATE INDEX servers_project_id_created_at_uuid_idx ON servers (project_id, created_at, uuid);

-- +goose Down
DROP TABLE servers;
