-- The admin's exchange-rate table: one row per currency, with the base, date and source of
-- the table in every row (they are replaced together).

-- +goose Up
CREATE TABLE exchange_rates (
    currency TEXT COLLATE "C" PRIMARY KEY,
    base     TEXT NOT NULL,
    rate     DOUBLE PRECISION NOT NULL, -- units of base per unit of currency
    as_of    TEXT NOT NULL,
    source   TEXT NOT NULL
);

-- +goose Down
DROP TABLE exchange_rates;
