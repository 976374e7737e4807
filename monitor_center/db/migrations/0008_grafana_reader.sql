-- A read-only role for Grafana and other readers of the center's tables.
--
-- monitor_center_reader is a NOLOGIN group role: it carries the privileges, and the
-- operator creates a login role that is a member of it, e.g.
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE monitor_center_reader;
--   ALTER ROLE grafana SET default_transaction_read_only = on;
-- (docker-compose.yml does this in its `grafana-login` service, password from the
-- environment). Keeping the password out of the migration keeps secrets out of the repo.

-- Roles are cluster-wide while this migration runs once per database: the role may
-- already exist (another database of the cluster, or an operator who created it first),
-- and two databases migrating at once may race to create it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor_center_reader') THEN
        BEGIN
            CREATE ROLE monitor_center_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created concurrently by another database's migration
        END;
    END IF;
    -- The schema the center's tables live in (public unless search_path says otherwise).
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO monitor_center_reader', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO monitor_center_reader',
                   current_schema());
    -- Tables that later migrations create (as the same role that runs this one) are
    -- readable too; TimescaleDB copies a hypertable's grants to its new chunks.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES'
                   ' TO monitor_center_reader', current_schema());
END
$$;
