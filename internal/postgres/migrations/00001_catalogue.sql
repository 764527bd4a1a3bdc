-- The catalogue: universities and their programmes. Each row keeps the whole record as a JSON
-- document (doc) and copies out the columns that filters, sorts and search need. Text keys
-- use the "C" collation so that they order byte by byte, as SQLite does.

-- +goose Up
CREATE TABLE universities (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    sort_name   TEXT COLLATE "C" NOT NULL,
    country     TEXT COLLATE "C" NOT NULL,
    search_text TEXT NOT NULL,
    search      TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED,
    doc         JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX universities_by_name ON universities (sort_name, id);
CREATE INDEX universities_by_country ON universities (country, sort_name, id);
CREATE INDEX universities_search ON universities USING GIN (search);

CREATE TABLE programmes (
    id               TEXT COLLATE "C" PRIMARY KEY,
    university_id    TEXT COLLATE "C" NOT NULL REFERENCES universities (id),
    country          TEXT COLLATE "C" NOT NULL, -- the university's, copied for filtering
    title            TEXT NOT NULL,
    sort_name        TEXT COLLATE "C" NOT NULL,
    level            TEXT COLLATE "C" NOT NULL,
    mode             TEXT COLLATE "C" NOT NULL,
    tuition_currency TEXT COLLATE "C",
    tuition_annual   BIGINT,                     -- minor units per year
    tuition_key      TEXT COLLATE "C" NOT NULL,  -- currency:amount, zero-padded, or '~' when unknown
    search_text      TEXT NOT NULL,
    search           TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED,
    doc              JSONB NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX programmes_by_name ON programmes (sort_name, id);
CREATE INDEX programmes_by_country ON programmes (country, sort_name, id);
CREATE INDEX programmes_by_university ON programmes (university_id);
CREATE INDEX programmes_by_tuition ON programmes (tuition_key, id);
CREATE INDEX programmes_search ON programmes USING GIN (search);

CREATE TABLE programme_intakes (
    programme_id TEXT COLLATE "C" NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    start_month  TEXT COLLATE "C" NOT NULL, -- YYYY-MM
    closes_first TEXT COLLATE "C",          -- the earliest day the application can close, YYYY-MM-DD
    closes_last  TEXT COLLATE "C",          -- the latest, when only the month is published
    PRIMARY KEY (programme_id, position)
);
CREATE INDEX programme_intakes_by_month ON programme_intakes (start_month, programme_id);

CREATE TABLE programme_tags (
    programme_id TEXT COLLATE "C" NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    tag          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (programme_id, tag)
);
CREATE INDEX programme_tags_by_tag ON programme_tags (tag, programme_id);

-- +goose Down
DROP TABLE programme_tags;
DROP TABLE programme_intakes;
DROP TABLE programmes;
DROP TABLE universities;
