-- The database's identity: one row, made by the first deploy that runs this migration, that
-- a saved plan names so it is never applied to another database; and, per deploy, the
-- digest of the saved plan it applied (none for a plain deploy). {s} is seedc's schema.
CREATE TABLE IF NOT EXISTS {s}.identity (
    id text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    one_row boolean NOT NULL DEFAULT true UNIQUE CHECK (one_row)
);
INSERT INTO {s}.identity (id) SELECT gen_random_uuid()::text WHERE NOT EXISTS (SELECT FROM {s}.identity);
ALTER TABLE {s}.deploys ADD COLUMN IF NOT EXISTS plan text;
