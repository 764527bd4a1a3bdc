-- A student's document library: each document once (a passport serves every application),
-- with its kind, expiry and review; a statement of purpose may be for one application.

-- +goose Up
CREATE TABLE library_documents (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    application_id TEXT NOT NULL DEFAULT '', -- '' serves every application
    file_id        TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    title          TEXT NOT NULL DEFAULT '',
    expires_on     TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX library_documents_user ON library_documents (user_id, kind, created_at);

-- +goose Down
DROP TABLE library_documents;
