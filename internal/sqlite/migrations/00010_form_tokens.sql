-- The nonces of the public forms' tokens already used: a token is good once, and its nonce is
-- kept until the token could no longer be used anyway.

-- +goose Up
CREATE TABLE form_tokens (
    nonce      TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX form_tokens_by_expiry ON form_tokens (expires_at);

-- +goose Down
DROP TABLE form_tokens;
