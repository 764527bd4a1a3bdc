-- Leads: requests from the public forms, their history, the append-only consent log, the first
-- answers to idempotent requests, and counsellors' routing profiles.

-- +goose Up
CREATE TABLE leads (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    status             TEXT NOT NULL,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL DEFAULT '', -- folded, sorted words of the name: finds likely duplicates
    phone              TEXT NOT NULL DEFAULT '', -- E.164
    email              TEXT NOT NULL DEFAULT '',
    date_of_birth      TEXT NOT NULL DEFAULT '',
    interest           TEXT NOT NULL DEFAULT '{}',
    page               TEXT NOT NULL DEFAULT '',
    utm                TEXT NOT NULL DEFAULT '{}',
    assignee_id        TEXT REFERENCES users (id),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    first_response_due TIMESTAMP NOT NULL,
    near_breach_at     TIMESTAMP NOT NULL,
    first_contact_at   TIMESTAMP,
    near_breach        BOOLEAN NOT NULL DEFAULT FALSE,
    breached           BOOLEAN NOT NULL DEFAULT FALSE,
    lost_reason        TEXT NOT NULL DEFAULT '',
    requests           INTEGER NOT NULL DEFAULT 1,
    marketing          BOOLEAN NOT NULL DEFAULT FALSE,
    version            INTEGER NOT NULL,
    merged_into        TEXT REFERENCES leads (id), -- set when merged into another lead
    erased_at          TIMESTAMP -- personal data removed on request
);
CREATE INDEX leads_by_phone ON leads (phone) WHERE phone <> '';
CREATE INDEX leads_by_email ON leads (email) WHERE email <> '';
CREATE INDEX leads_by_assignee ON leads (assignee_id, status);
CREATE INDEX leads_by_created ON leads (created_at, id);
CREATE INDEX leads_by_name_key ON leads (name_key) WHERE name_key <> '';
CREATE INDEX leads_by_merged_into ON leads (merged_into) WHERE merged_into IS NOT NULL;
-- The SLA sweep: new leads nobody has contacted yet, by when they near breach.
CREATE INDEX leads_sla ON leads (near_breach_at) WHERE status = 'new' AND first_contact_at IS NULL AND NOT breached;

CREATE TABLE lead_activity (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id  TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    at       TIMESTAMP NOT NULL,
    actor_id TEXT NOT NULL DEFAULT '',
    type     TEXT NOT NULL,
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX lead_activity_by_lead ON lead_activity (lead_id, id);

-- People who asked for updates and newsletters.
CREATE TABLE subscriptions (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    topics     TEXT NOT NULL DEFAULT '[]',
    active     BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX subscriptions_by_email ON subscriptions (email) WHERE email <> '';
CREATE INDEX subscriptions_by_phone ON subscriptions (phone) WHERE phone <> '';

-- Consent evidence for a lead or a subscription is never changed or removed: a withdrawal is a
-- new row.
CREATE TABLE consents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id     TEXT NOT NULL, -- a lead or a subscription
    purpose        TEXT NOT NULL,
    granted        BOOLEAN NOT NULL,
    notice_version TEXT NOT NULL,
    at             TIMESTAMP NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    guardian       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consents_by_subject ON consents (subject_id, id);

-- +goose StatementBegin
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN
    SELECT RAISE(ABORT, 'consent records are append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
BEGIN
    SELECT RAISE(ABORT, 'consent records are append-only');
END;
-- +goose StatementEnd

CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

-- Secrets shared by every replica, such as the key that signs form tokens.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Settings an admin changes at run time, shared by every replica (the business calendar).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE counsellor_profiles (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    countries        TEXT NOT NULL DEFAULT '[]',
    courses          TEXT NOT NULL DEFAULT '[]',
    hours            TEXT NOT NULL DEFAULT '{}',
    leave            TEXT NOT NULL DEFAULT '[]',
    last_assigned_at TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE counsellor_profiles;
DROP TABLE secrets;
DROP TABLE settings;
DROP TABLE idempotency_keys;
DROP TABLE consents;
DROP TABLE subscriptions;
DROP TABLE lead_activity;
DROP TABLE leads;
