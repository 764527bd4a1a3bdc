-- An application keeps its history: every status change with who made it, when, and a note
-- (a list in JSON, the opening first).

-- +goose Up
ALTER TABLE applications ADD COLUMN history TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE applications DROP COLUMN history;
