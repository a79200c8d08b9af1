-- seedc's registry: the deploy history, collection versions, published packs and manifests
-- (immutable: a trigger refuses an UPDATE), and the cache flush outbox. {s} is seedc's schema.
CREATE TABLE {s}.deploys (
    id bigserial PRIMARY KEY,
    deployed_at timestamptz NOT NULL DEFAULT now(),
    project text NOT NULL,
    content_version text NOT NULL,
    seedc_version text NOT NULL,
    summary jsonb NOT NULL
);
CREATE TABLE {s}.collections (
    name text PRIMARY KEY,
    table_name text NOT NULL,
    version text NOT NULL,
    content_hash text NOT NULL,
    records bigint NOT NULL,
    rows_kept bigint NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.packs (
    hash text PRIMARY KEY,
    pack_id text NOT NULL,
    version text NOT NULL,
    kind text NOT NULL,
    pack_schema_v text NOT NULL,
    body bytea NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.manifests (
    manifest_id text PRIMARY KEY,
    mode text NOT NULL,
    date date,
    hash text NOT NULL,
    body bytea NOT NULL,
    deploy_id bigint NOT NULL REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.flush_outbox (
    deploy_id bigint PRIMARY KEY REFERENCES {s}.deploys (id) DEFERRABLE INITIALLY DEFERRED,
    keys text[] NOT NULL,
    version_key text NOT NULL,
    content_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz
);
CREATE INDEX flush_outbox_pending ON {s}.flush_outbox (deploy_id) WHERE done_at IS NULL;
CREATE FUNCTION {s}.refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'seedc: rows of %.% are immutable', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER immutable BEFORE UPDATE ON {s}.manifests FOR EACH ROW EXECUTE FUNCTION {s}.refuse_update();
CREATE TRIGGER immutable BEFORE UPDATE ON {s}.packs FOR EACH ROW EXECUTE FUNCTION {s}.refuse_update();
