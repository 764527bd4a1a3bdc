-- The first day an intake can start (YYYY-MM-DD), for the finder's "open for applications"
-- filter on the database. Rows written before have their month's first day until the
-- programme is written again.

-- +goose Up
ALTER TABLE programme_intakes ADD COLUMN start_first TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE programme_intakes SET start_first = start_month || '-01';

-- +goose Down
ALTER TABLE programme_intakes DROP COLUMN start_first;
