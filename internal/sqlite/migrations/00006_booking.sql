-- Booking: counsellors' availability, bookings, and the cells they occupy. A booking holds one
-- row per five-minute cell of its busy time (session and buffer) under a unique key, so two
-- active bookings of one counsellor can never overlap, whichever path writes them.

-- +goose Up
CREATE TABLE availability (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    value      TEXT NOT NULL, -- JSON: zone, week, exceptions, types
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE bookings (
    id            TEXT PRIMARY KEY,
    counsellor_id TEXT NOT NULL REFERENCES users (id),
    type          TEXT NOT NULL,
    start_at      TIMESTAMP NOT NULL,
    end_at        TIMESTAMP NOT NULL,
    busy_until    TIMESTAMP NOT NULL, -- end and buffer
    status        TEXT NOT NULL,
    student_id    TEXT REFERENCES users (id),
    lead_id       TEXT REFERENCES leads (id),
    name          TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    zone          TEXT NOT NULL DEFAULT '', -- the booker's time zone
    manage_hash   TEXT NOT NULL DEFAULT '', -- SHA-256 of the secret of the booker's link
    sequence      INTEGER NOT NULL DEFAULT 0,
    reminded      INTEGER NOT NULL DEFAULT 0, -- reminders sent for this time: 1 the day before, 2 the hour before
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX bookings_by_counsellor ON bookings (counsellor_id, start_at);
CREATE INDEX bookings_by_student ON bookings (student_id) WHERE student_id IS NOT NULL;
-- The reminder sweep: active bookings by start.
CREATE INDEX bookings_to_remind ON bookings (start_at) WHERE status IN ('pending', 'confirmed') AND reminded < 2;

-- A counsellor's private calendar feed: the SHA-256 of its secret.
CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE booking_cells (
    counsellor_id TEXT NOT NULL,
    cell          BIGINT NOT NULL, -- minutes since 1970 / 5
    booking_id    TEXT NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    PRIMARY KEY (counsellor_id, cell)
);
CREATE INDEX booking_cells_by_booking ON booking_cells (booking_id);

-- +goose Down
DROP TABLE calendar_feeds;
DROP TABLE booking_cells;
DROP TABLE bookings;
DROP TABLE availability;
