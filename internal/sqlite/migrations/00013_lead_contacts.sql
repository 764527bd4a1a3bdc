-- A lead keeps every phone and email it has been given (other_contacts, JSON), names the lead
-- it may duplicate when a known phone or email came with another name (duplicate_of), and
-- says when a repeat request re-opened its clock (reopened_at).

-- +goose Up
ALTER TABLE leads ADD COLUMN other_contacts TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN reopened_at TIMESTAMP;

-- +goose Down
ALTER TABLE leads DROP COLUMN reopened_at;
ALTER TABLE leads DROP COLUMN duplicate_of;
ALTER TABLE leads DROP COLUMN other_contacts;
