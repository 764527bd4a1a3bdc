-- The student workspace: versioned profiles, the shortlist, applications with their timeline,
-- uploaded files (stored once per student and content).

-- +goose Up
CREATE TABLE profiles (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, version)
);

CREATE TABLE shortlist (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    programme_id  TEXT NOT NULL,
    university_id TEXT NOT NULL,
    country       TEXT NOT NULL,
    added_at      TIMESTAMP NOT NULL,
    added_by      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, programme_id)
);

CREATE TABLE applications (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    programme_id       TEXT NOT NULL,
    intake             TEXT NOT NULL,
    deadline           TEXT NOT NULL,
    deadline_estimated BOOLEAN NOT NULL DEFAULT FALSE,
    status             TEXT NOT NULL,
    steps              TEXT NOT NULL,
    documents          TEXT NOT NULL, -- the checklist: kind, status, file, reason, expiry
    costs              TEXT NOT NULL DEFAULT '[]', -- the cost plan's items
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    version            INTEGER NOT NULL,
    UNIQUE (user_id, programme_id, intake)
);

CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    original_name TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (user_id, sha256)
);

-- +goose Down
DROP TABLE files;
DROP TABLE applications;
DROP TABLE shortlist;
DROP TABLE profiles;
