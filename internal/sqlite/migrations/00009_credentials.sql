-- A user's credentials epoch: raised whenever every credential of the account is revoked
-- (disabling it), so that credentials derived from the account without being stored (the
-- student's calendar address) stop working too, and re-enabling revives none of them.
--
-- Sign-ups waiting for their address to be confirmed: nothing says whether the address already
-- has an account until its owner reads their email.

-- +goose Up
ALTER TABLE users ADD COLUMN credentials_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE registrations (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    token_hash    TEXT UNIQUE,
    created_at    TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);
CREATE INDEX registrations_by_expiry ON registrations (expires_at);

-- +goose Down
DROP TABLE registrations;
ALTER TABLE users DROP COLUMN credentials_epoch;
