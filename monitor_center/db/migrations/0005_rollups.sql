-- Hourly and daily rollups, kept for years after raw data is dropped (see the telemetry
-- issue). Day buckets start at midnight in the center's time zone, stored as timestamptz.
-- Rows are recomputed whole for a bucket (idempotent): late data re-rolls its bucket.

CREATE TABLE probe_rollups (
    endpoint_id       text NOT NULL,
    resolution        text NOT NULL CHECK (resolution IN ('hour', 'day')),
    bucket            timestamptz NOT NULL,
    total             integer NOT NULL,
    ok                integer NOT NULL,
    downtime_seconds  double precision NOT NULL,
    -- Seconds of the bucket covered by results (the rest is unknown: never counted as up).
    covered_seconds   double precision NOT NULL,
    latency_p50_ms    real,
    latency_p95_ms    real,
    latency_p99_ms    real,
    rolled_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (endpoint_id, resolution, bucket)
);
CREATE INDEX probe_rollups_bucket_idx ON probe_rollups (resolution, bucket);

CREATE TABLE series_rollups (
    series_id   text NOT NULL,
    resolution  text NOT NULL CHECK (resolution IN ('hour', 'day')),
    bucket      timestamptz NOT NULL,
    samples     integer NOT NULL,
    min         double precision NOT NULL,
    max         double precision NOT NULL,
    avg         double precision NOT NULL,
    last        double precision NOT NULL,
    -- Counters: the increase within the bucket with resets handled as Prometheus rate();
    -- gauges: last - first.
    increase    double precision,
    rolled_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, resolution, bucket)
);
CREATE INDEX series_rollups_bucket_idx ON series_rollups (resolution, bucket);
