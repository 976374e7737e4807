-- The fleet catalogue (synced from the config at start) and raw probe results.

CREATE TABLE agencies (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('platform', 'ministry', 'province')),
    depends_on  text[] NOT NULL DEFAULT '{}',
    lat         double precision,
    lon         double precision,
    active      boolean NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE endpoints (
    id               text PRIMARY KEY,
    agency_id        text NOT NULL,
    url              text NOT NULL,
    interval_seconds double precision NOT NULL,
    timeout_seconds  double precision NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_agency_idx ON endpoints (agency_id);

-- One row per probe. (endpoint_id, time) is unique so that a replayed batch is a no-op.
CREATE TABLE probe_results (
    time              timestamptz NOT NULL,
    endpoint_id       text NOT NULL,
    ok                boolean NOT NULL,
    status            smallint,
    reason            text,
    total_ms          real NOT NULL,
    connect_ms        real,
    tls_ms            real,
    first_byte_ms     real,
    cert_expiry_days  real
);
CREATE UNIQUE INDEX probe_results_endpoint_time_idx ON probe_results (endpoint_id, time DESC);

DO $$
BEGIN
    IF current_setting('monitor_center.timescaledb', true) = 'on' THEN
        PERFORM create_hypertable('probe_results', 'time',
                                  chunk_time_interval => interval '1 day');
    ELSE
        -- Plain PostgreSQL: a BRIN index keeps time-range scans cheap on an append-only table.
        CREATE INDEX probe_results_time_brin ON probe_results USING brin (time);
    END IF;
END
$$;
