-- Whether the account's pages show where the car went (routes). Location is
-- sensitive personal data: off until the account turns it on.
ALTER TABLE accounts ADD COLUMN show_location BOOLEAN NOT NULL DEFAULT FALSE;
