-- The audit trail of [8/8] (like Nova's instance actions): one row per
-- finished adoption or release, written in the same transaction that ends
-- its intent, so an action is never lost and never recorded twice. Rows
-- are kept when the server is released or rolled back. user_id and
-- project_id are the caller's, request_id the request that began it.
-- Keep in step with migrations/sqlite.

-- +goose Up
CREATE TABLE actions (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    server_uuid TEXT        NOT NULL,
    -- manage | unmanage
    action      TEXT        NOT NULL,
    request_id  TEXT        NOT NULL,
    user_id     TEXT        NOT NULL,
    project_id  TEXT        NOT NULL,
    start_time  TIMESTAMPTZ NOT NULL,
    finish_time TIMESTAMPTZ NOT NULL,
    -- success | error
    result      TEXT        NOT NULL,
    -- the fault, NULL on success
    message     TEXT
);
CREATE INDEX actions_server_uuid_idx ON actions (server_uuid, start_time);

-- +goose Down
DROP TABLE actions;
