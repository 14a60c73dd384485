-- Fencing and binding tombstones ([1/4] of the migration work).
-- A replica is its [DEFAULT] host plus an epoch that grows at each start
-- (replicas); an intent records the epoch of the start that owns it and a
-- fence that grows at every takeover, and every write of its owner checks
-- both, so a paused or duplicated process touches nothing once another
-- took the intent over. binding_tombstones remember, per Neutron port an
-- adoption or a release touched, the binding it had before we touched it,
-- so that the reconciler can repair what a late request left behind.
-- Keep in step with migrations/postgres; times are TEXT as in 00001.

-- +goose Up
ALTER TABLE intents ADD COLUMN owner_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intents ADD COLUMN fence INTEGER NOT NULL DEFAULT 0;
CREATE INDEX intents_node_uuid_idx ON intents (node_uuid);

CREATE TABLE replicas (
    host       TEXT        NOT NULL,
    epoch      INTEGER     NOT NULL,
    started_at TEXT        NOT NULL,
    CONSTRAINT replicas_pkey PRIMARY KEY (host)
) STRICT;

CREATE TABLE binding_tombstones (
    port_id        TEXT        NOT NULL,
    -- the node we bound it to (or released it from)
    node_uuid      TEXT        NOT NULL,
    -- the binding before we touched it: restored when no live server
    -- records the port
    prev_host_id   TEXT        NOT NULL,
    prev_vnic_type TEXT        NOT NULL,
    created_at     TEXT        NOT NULL,
    CONSTRAINT binding_tombstones_pkey PRIMARY KEY (port_id)
) STRICT;
CREATE INDEX binding_tombstones_created_at_idx ON binding_tombstones (created_at);

-- +goose Down
DROP TABLE binding_tombstones;
DROP TABLE replicas;
DROP INDEX intents_node_uuid_idx;
ALTER TABLE intents DROP COLUMN fence;
ALTER TABLE intents DROP COLUMN owner_epoch;
