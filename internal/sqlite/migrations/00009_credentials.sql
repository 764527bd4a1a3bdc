-- A user's credentials epoch: raised whenever every credential of the account is revoked
-- (disabling it), so that credentials derived from the account without being stored (the
-- student's calendar address) stop working too, and re-enabling revives none of them.

-- +goose Up
ALTER TABLE users ADD COLUMN credentials_epoch INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN credentials_epoch;
