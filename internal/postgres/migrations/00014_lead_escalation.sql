-- An overdue lead still unanswered is escalated once (lead_escalate_after): escalate_at is
-- when, set as it breaches; escalated_at when it was.

-- +goose Up
ALTER TABLE leads ADD COLUMN escalate_at TIMESTAMPTZ;
ALTER TABLE leads ADD COLUMN escalated_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE leads DROP COLUMN escalated_at;
ALTER TABLE leads DROP COLUMN escalate_at;
