-- Series samples (transaction counters, KPI gauges): what the periodic alert rules read.

CREATE TABLE series_samples (
    series_id  text NOT NULL,
    time       timestamptz NOT NULL,
    value      double precision NOT NULL
);
-- Unique so that a replayed batch is a no-op; DESC because rules read the newest first.
CREATE UNIQUE INDEX series_samples_series_time_idx ON series_samples (series_id, time DESC);

DO $$
BEGIN
    IF current_setting('monitor_center.timescaledb', true) = 'on' THEN
        -- Series are polled every minute or slower: a week per chunk keeps chunks few.
        PERFORM create_hypertable('series_samples', 'time',
                                  chunk_time_interval => interval '7 days');
    ELSE
        CREATE INDEX series_samples_time_brin ON series_samples USING brin (time);
    END IF;
END
$$;
