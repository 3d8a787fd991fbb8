-- Privacy zones: places an owner defines (a centre and a radius of at least
-- 200 m) where positions are hidden: on every page, in every export and for
-- every grant, unless the owner asks for `full` in their own export. They
-- apply to the positions of the periods in which the account owned a
-- vehicle. Only the owner ever reads them back; a bundle says that zones
-- were applied, never where they are.
CREATE TABLE privacy_zones (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    lat         REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_m    REAL NOT NULL CHECK (radius_m >= 200),
    created_at  INTEGER NOT NULL
);
CREATE INDEX privacy_zones_by_account ON privacy_zones(account_id, id);
