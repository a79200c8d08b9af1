-- Drift detection: the markers the drift triggers of every collection table write, the
-- trigger function, and the rollback flag of the deploy record. {s} is seedc's schema.
CREATE TABLE {s}.drift (
    collection text PRIMARY KEY,
    seq bigint NOT NULL,
    first_at timestamptz NOT NULL DEFAULT now(),
    last_at timestamptz NOT NULL DEFAULT now(),
    statements bigint NOT NULL,
    rows bigint,
    keys text[],
    ops text[] NOT NULL
);
CREATE FUNCTION {s}.note_drift() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n bigint;
    ks text[];
BEGIN
    IF coalesce(current_setting('seedc.deploy', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 10000 THEN SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM new_rows; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 10000 THEN SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM old_rows; END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        IF n <= 5000 THEN
            SELECT array_agg(DISTINCT id ORDER BY id) INTO ks FROM (SELECT id FROM old_rows UNION SELECT id FROM new_rows) AS both_sides;
        END IF;
    END IF;
    INSERT INTO {s}.drift AS d (collection, seq, statements, rows, keys, ops) VALUES (TG_ARGV[0], 1, 1, n, ks, ARRAY[TG_OP])
    ON CONFLICT (collection) DO UPDATE SET
        seq = d.seq + 1,
        last_at = now(),
        statements = d.statements + 1,
        rows = d.rows + EXCLUDED.rows,
        keys = CASE WHEN d.keys IS NULL OR EXCLUDED.keys IS NULL OR cardinality(d.keys) + cardinality(EXCLUDED.keys) > 10000 THEN NULL
                    ELSE ARRAY(SELECT DISTINCT k FROM unnest(d.keys || EXCLUDED.keys) AS k ORDER BY k) END,
        ops = CASE WHEN EXCLUDED.ops[1] = ANY (d.ops) THEN d.ops ELSE d.ops || EXCLUDED.ops END;
    RETURN NULL;
END
$$;
ALTER TABLE {s}.deploys ADD COLUMN rollback boolean NOT NULL DEFAULT false;
