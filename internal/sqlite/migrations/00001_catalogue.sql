-- The catalogue: universities and their programmes. Each row keeps the whole record as a JSON
-- document (doc) and copies out the columns that filters, sorts and search need.

-- +goose Up
CREATE TABLE universities (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sort_name   TEXT NOT NULL,
    country     TEXT NOT NULL,
    search_text TEXT NOT NULL,
    doc         TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX universities_by_name ON universities (sort_name, id);
CREATE INDEX universities_by_country ON universities (country, sort_name, id);

CREATE VIRTUAL TABLE universities_fts USING fts5(
    search_text, content = 'universities', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER universities_fts_insert AFTER INSERT ON universities BEGIN
    INSERT INTO universities_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER universities_fts_delete AFTER DELETE ON universities BEGIN
    INSERT INTO universities_fts (universities_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER universities_fts_update AFTER UPDATE OF search_text ON universities BEGIN
    INSERT INTO universities_fts (universities_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO universities_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
-- +goose StatementEnd

CREATE TABLE programmes (
    id               TEXT PRIMARY KEY,
    university_id    TEXT NOT NULL REFERENCES universities (id),
    country          TEXT NOT NULL, -- the university's, copied for filtering
    title            TEXT NOT NULL,
    sort_name        TEXT NOT NULL,
    level            TEXT NOT NULL,
    mode             TEXT NOT NULL,
    tuition_currency TEXT,
    tuition_annual   INTEGER,       -- minor units per year
    tuition_key      TEXT NOT NULL, -- currency:amount, zero-padded, or '~' when unknown
    search_text      TEXT NOT NULL,
    doc              TEXT NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX programmes_by_name ON programmes (sort_name, id);
CREATE INDEX programmes_by_country ON programmes (country, sort_name, id);
CREATE INDEX programmes_by_university ON programmes (university_id);
CREATE INDEX programmes_by_tuition ON programmes (tuition_key, id);

CREATE VIRTUAL TABLE programmes_fts USING fts5(
    search_text, content = 'programmes', content_rowid = 'rowid',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- +goose StatementBegin
CREATE TRIGGER programmes_fts_insert AFTER INSERT ON programmes BEGIN
    INSERT INTO programmes_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER programmes_fts_delete AFTER DELETE ON programmes BEGIN
    INSERT INTO programmes_fts (programmes_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER programmes_fts_update AFTER UPDATE OF search_text ON programmes BEGIN
    INSERT INTO programmes_fts (programmes_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO programmes_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
-- +goose StatementEnd

CREATE TABLE programme_intakes (
    programme_id TEXT NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    start_month  TEXT NOT NULL, -- YYYY-MM
    closes_first TEXT,          -- the earliest day the application can close, YYYY-MM-DD
    closes_last  TEXT,          -- the latest, when only the month is published
    PRIMARY KEY (programme_id, position)
);
CREATE INDEX programme_intakes_by_month ON programme_intakes (start_month, programme_id);

CREATE TABLE programme_tags (
    programme_id TEXT NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    tag          TEXT NOT NULL,
    PRIMARY KEY (programme_id, tag)
);
CREATE INDEX programme_tags_by_tag ON programme_tags (tag, programme_id);

-- +goose Down
DROP TABLE programme_tags;
DROP TABLE programme_intakes;
DROP TABLE programmes_fts;
DROP TABLE programmes;
DROP TABLE universities_fts;
DROP TABLE universities;
