-- Failed series reads (an HTML page instead of JSON, a missing JSON path, NaN, a 503...):
-- kept apart from series_samples so that a failure is never a value (never a 0).

CREATE TABLE series_errors (
    series_id  text NOT NULL,
    time       timestamptz NOT NULL,
    -- A stable category (collectors.series.ERROR_REASONS), and the text an operator reads.
    reason     text NOT NULL,
    message    text NOT NULL
);
-- Unique so that a replayed batch is a no-op; DESC because the API reads the newest.
CREATE UNIQUE INDEX series_errors_series_time_idx ON series_errors (series_id, time DESC);

DO $$
BEGIN
    IF current_setting('monitor_center.timescaledb', true) = 'on' THEN
        PERFORM create_hypertable('series_errors', 'time',
                                  chunk_time_interval => interval '7 days');
        -- Ingest: every sample also updates each index of series_samples, and the
        -- default btree on time that create_hypertable added costs about a third of
        -- the COPY rate (measured by bench/ingest.py). Time-range scans across series
        -- (rollups) get a BRIN index instead, as on plain PostgreSQL, which costs
        -- next to nothing to maintain on data that arrives in time order.
        DROP INDEX IF EXISTS series_samples_time_idx;
        CREATE INDEX series_samples_time_brin ON series_samples USING brin (time);
    ELSE
        CREATE INDEX series_errors_time_brin ON series_errors USING brin (time);
    END IF;
END
$$;
