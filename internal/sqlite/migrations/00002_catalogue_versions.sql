-- Content hashes let an import tell unchanged records from changed ones, and the catalogue
-- version, bumped by every write that changes something, tells readers (and other replicas)
-- that their caches are stale.

-- +goose Up
ALTER TABLE universities ADD COLUMN doc_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE programmes ADD COLUMN doc_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE catalogue_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalogue_state (id, version) VALUES (1, 1);

-- +goose Down
DROP TABLE catalogue_state;
ALTER TABLE programmes DROP COLUMN doc_hash;
ALTER TABLE universities DROP COLUMN doc_hash;
