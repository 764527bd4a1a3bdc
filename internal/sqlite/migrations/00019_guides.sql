-- The agency's guides: every save a revision; the publication says which one the public reads.

-- +goose Up
CREATE TABLE guides (
    slug       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,   -- the latest revision's
    latest     INTEGER NOT NULL,
    live       INTEGER NOT NULL DEFAULT 0,  -- 0 while unpublished
    scheduled  INTEGER NOT NULL DEFAULT 0,  -- goes live at publish_at
    publish_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (slug, lang)
);

CREATE TABLE guide_revisions (
    slug       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL,   -- the revision as JSON
    updated_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (slug, lang, version)
);

-- +goose Down
DROP TABLE guide_revisions;
DROP TABLE guides;
