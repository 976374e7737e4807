"""The two queries that recompute a bucket from raw rows (see ``monitor_center.rollups``
for the definitions). Parameters: ``resolution``, ``start``, ``end``, ``now``, ``carry``
(seconds before the bucket whose results may reach into it), ``default`` (interval of an
endpoint missing from the catalogue) and ``lookback`` (how far back a series baseline is
looked for).
"""

# Each result stands for the time until the next one, at most 2 x its endpoint's interval,
# and never past `now`; spans are clipped to the bucket. Results from `carry` seconds before
# the bucket are read because their spans may reach into it.
ROLL_PROBES = """
WITH results AS (
    SELECT p.endpoint_id, p.ok, p.total_ms, p.time >= %(start)s AS inside,
           greatest(p.time, %(start)s) AS span_start,
           least(lead(p.time) OVER (PARTITION BY p.endpoint_id ORDER BY p.time),
                 p.time + make_interval(secs => 2 * coalesce(e.interval_seconds, %(default)s)),
                 %(end)s, %(now)s) AS span_end
    FROM probe_results AS p LEFT JOIN endpoints AS e ON e.id = p.endpoint_id
    WHERE p.time >= %(start)s - make_interval(secs => %(carry)s) AND p.time < %(end)s
), spans AS (
    SELECT *, greatest(extract(epoch FROM span_end - span_start), 0) AS seconds FROM results
), rolled AS (
    SELECT endpoint_id,
           count(*) FILTER (WHERE inside) AS total,
           count(*) FILTER (WHERE inside AND ok) AS ok,
           coalesce(sum(seconds) FILTER (WHERE NOT ok), 0) AS downtime,
           sum(seconds) AS covered,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY total_ms)
               FILTER (WHERE inside AND ok) AS q
    FROM spans GROUP BY endpoint_id
)
INSERT INTO probe_rollups (endpoint_id, resolution, bucket, total, ok, downtime_seconds,
                           covered_seconds, latency_p50_ms, latency_p95_ms, latency_p99_ms)
SELECT endpoint_id, %(resolution)s, %(start)s, total, ok, downtime, covered, q[1], q[2], q[3]
FROM rolled WHERE total > 0 OR covered > 0
"""

# The increase runs from the baseline (the last sample before the bucket, within
# `lookback`) to the bucket's last sample, so hourly increases add up to the daily one.
# Counters: a drop is a reset and the value after it is the increase (Prometheus);
# gauges: last minus baseline; unknown kind: NULL. NULL too with fewer than two points.
ROLL_SERIES = """
WITH inside AS (
    SELECT series_id, time, value FROM series_samples
    WHERE time >= %(start)s AND time < %(end)s
), baseline AS (
    SELECT ids.series_id, b.time, b.value
    FROM (SELECT DISTINCT series_id FROM inside) AS ids
    CROSS JOIN LATERAL (
        SELECT time, value FROM series_samples AS s
        WHERE s.series_id = ids.series_id
          AND s.time < %(start)s AND s.time >= %(start)s - %(lookback)s
        ORDER BY time DESC LIMIT 1) AS b
), points AS (
    SELECT series_id, time, value, true AS inside FROM inside
    UNION ALL
    SELECT series_id, time, value, false FROM baseline
), steps AS (
    SELECT series_id, time, value, inside,
           lag(value) OVER w AS prev, first_value(value) OVER w AS first
    FROM points WINDOW w AS (PARTITION BY series_id ORDER BY time)
), rolled AS (
    SELECT series_id,
           count(*) FILTER (WHERE inside) AS samples,
           min(value) FILTER (WHERE inside) AS min,
           max(value) FILTER (WHERE inside) AS max,
           avg(value) FILTER (WHERE inside) AS avg,
           (array_agg(value ORDER BY time DESC))[1] AS last,
           min(first) AS first,
           count(prev) AS steps,
           sum(CASE WHEN prev IS NULL THEN NULL WHEN value >= prev THEN value - prev
                    ELSE value END) AS grown
    FROM steps GROUP BY series_id
)
INSERT INTO series_rollups (series_id, resolution, bucket, samples, min, max, avg, last,
                            increase)
SELECT r.series_id, %(resolution)s, %(start)s, samples, min, max, avg, last,
       CASE WHEN steps = 0 THEN NULL
            WHEN k.kind = 'counter' THEN grown
            WHEN k.kind = 'gauge' THEN last - first END
FROM rolled AS r LEFT JOIN rollup_series_kinds AS k USING (series_id)
"""
