-- Consent that holds up: a minor's lead keeps their guardian and when the guardian confirmed
-- (until then marketing stays off), and the privacy notice is published in versions, each
-- kept, so that every consent record names the words it was given under.

-- +goose Up
ALTER TABLE leads ADD COLUMN minor BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE leads ADD COLUMN guardian TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN guardian_confirmed_at TIMESTAMP;

CREATE TABLE privacy_notices (
    version      TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    published_at TIMESTAMP NOT NULL,
    published_by TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE privacy_notices;
ALTER TABLE leads DROP COLUMN guardian_confirmed_at;
ALTER TABLE leads DROP COLUMN guardian;
ALTER TABLE leads DROP COLUMN minor;
