-- Webhook endpoints that admins register, and every delivery attempt to them.

-- +goose Up
CREATE TABLE webhook_endpoints (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL, -- a JSON list of event types
    description TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL, -- whsec_…, to sign deliveries
    -- after a rotation the previous secret signs too, until previous_until
    previous_secret TEXT NOT NULL DEFAULT '',
    previous_until  TIMESTAMP,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    status           TEXT NOT NULL, -- delivered or failed
    response_code    INTEGER NOT NULL DEFAULT 0,
    response_excerpt TEXT NOT NULL DEFAULT '',
    error            TEXT NOT NULL DEFAULT '',
    payload          TEXT NOT NULL DEFAULT '', -- the body sent, for a redelivery by hand
    at               TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, at);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
