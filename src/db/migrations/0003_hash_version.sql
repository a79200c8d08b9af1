-- Which definition of a collection hash `content_hash` follows (canon::HashVersion): every
-- hash recorded before this migration is of the first.
ALTER TABLE {s}.collections ADD COLUMN IF NOT EXISTS hash_v integer NOT NULL DEFAULT 1;
