-- Roadmaps as documents, learners' states by stable topic id with their history, and cohorts.

-- +goose Up
CREATE TABLE roadmaps (
    slug       TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE topic_marks (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    done_at    TIMESTAMP,
    PRIMARY KEY (user_id, topic_id)
);

CREATE TABLE topic_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    status   TEXT NOT NULL,
    at       TIMESTAMP NOT NULL
);
CREATE INDEX topic_events_by_user ON topic_events (user_id, id);

CREATE TABLE cohorts (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    mentor_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    roadmap    TEXT NOT NULL,
    members    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cohorts_by_mentor ON cohorts (mentor_id);

-- +goose Down
DROP TABLE cohorts;
DROP TABLE topic_events;
DROP TABLE topic_marks;
DROP TABLE roadmaps;
