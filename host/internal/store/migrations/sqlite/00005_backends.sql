-- Several backends per host ([2/4]): every server, intent and tombstone
-- records the backend it belongs to, and everything after acts there.
-- Rows written before have '' here until `mogan-api db sync` fills them
-- (in Go, after this migration) with the one backend the configuration
-- implies; the host refuses to start while any is unfilled.
-- Keep in step with migrations/postgres.

-- +goose Up
ALTER TABLE servers ADD COLUMN backend TEXT NOT NULL DEFAULT '';
ALTER TABLE intents ADD COLUMN backend TEXT NOT NULL DEFAULT '';
ALTER TABLE tombstones ADD COLUMN backend TEXT NOT NULL DEFAULT '';
ALTER TABLE binding_tombstones ADD COLUMN backend TEXT NOT NULL DEFAULT '';
CREATE INDEX servers_backend_idx ON servers (backend);

-- +goose Down
DROP INDEX servers_backend_idx;
ALTER TABLE binding_tombstones DROP COLUMN backend;
ALTER TABLE tombstones DROP COLUMN backend;
ALTER TABLE intents DROP COLUMN backend;
ALTER TABLE servers DROP COLUMN backend;
