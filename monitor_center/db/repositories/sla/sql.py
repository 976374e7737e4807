"""The SQL text of the SLA repository (see the package docstring for the access paths)."""

# Touched days are flagged rather than filtered out (a filter shrinks the planner's row
# estimate until it sorts instead of hashing), once per row (OFFSET 0 keeps the subquery
# whole: inlined, the flag's hashed subplan would run again in every aggregate).
# Completeness (rolled after the day's end) uses the session time zone, set to the
# center's: one conversion a row, not four.
DAY_TOTALS = """
SELECT endpoint_id, CASE WHEN %(per_day)s THEN b END,
       coalesce(sum(total) FILTER (WHERE NOT skip), 0),
       coalesce(sum(ok) FILTER (WHERE NOT skip), 0),
       coalesce(sum(downtime_seconds) FILTER (WHERE NOT skip), 0),
       coalesce(sum(covered_seconds) FILTER (WHERE NOT skip), 0),
       coalesce(array_agg(b) FILTER (WHERE NOT skip), '{{}}'),
       coalesce(array_agg(b) FILTER (WHERE NOT skip AND ok < total), '{{}}')
FROM (
    SELECT r.endpoint_id, r.total, r.ok, r.downtime_seconds, r.covered_seconds,
           date_part('epoch', r.bucket) AS b,
           (r.endpoint_id, r.bucket) IN (
               SELECT x.eid, to_timestamp(x.b)
               FROM unnest(%(x_ids)s::text[], %(x_buckets)s::float8[]) AS x(eid, b)) AS skip
    FROM probe_rollups r
    WHERE r.resolution = 'day' AND r.bucket >= to_timestamp(%(lo)s)
      AND r.bucket < to_timestamp(%(hi)s) {scope}
      AND r.rolled_at >= r.bucket + interval '1 day'
      AND r.bucket = date_trunc('day', r.bucket)  -- a local midnight, as asked for
    OFFSET 0
) r
GROUP BY endpoint_id, CASE WHEN %(per_day)s THEN b END
HAVING bool_or(NOT skip)  -- a day touched by maintenance is answered by its hours
"""

# Sums per stretch: {source} yields (pos, eid, lo, hi, row) for each wide range (one
# UNION ALL branch each, so the planner sees the bounds and scans by time) or for each
# narrow stretch (eid NULL: the position says which).
HOURS_WIDE = """
SELECT {i} AS pos, r.endpoint_id COLLATE "C" AS eid, %(lo{i})s::float8 AS lo,
       %(hi{i})s::float8 AS hi, r.*
FROM probe_rollups r WHERE r.resolution = 'hour'
 AND r.bucket >= to_timestamp(%(lo{i})s) AND r.bucket < to_timestamp(%(hi{i})s)
 AND r.endpoint_id = ANY(%(ids{i})s)
"""
HOURS_NARROW = """
SELECT n.ord - 1 AS pos, NULL::text COLLATE "C" AS eid, n.lo, n.hi, r.*
FROM unnest(%(ids)s::text[],
    %(lo)s::float8[], %(hi)s::float8[]) WITH ORDINALITY AS n(eid, lo, hi, ord)
 JOIN probe_rollups r ON r.endpoint_id = n.eid AND r.resolution = 'hour'
 AND r.bucket >= to_timestamp(n.lo) AND r.bucket < to_timestamp(n.hi)
"""
# Which hours were found: a bit per hour of the stretch (a stretch lies within one day:
# at most 25 hours), a small state that lets PostgreSQL hash rather than sort.
HOURS = """
SELECT s.pos, s.eid, sum(s.total), sum(s.ok), sum(s.downtime_seconds), sum(s.covered_seconds),
       bit_or(1::int8 << ((date_part('epoch', s.bucket) - s.lo) / 3600)::int)
FROM ({source}) s WHERE s.rolled_at >= s.bucket + interval '1 hour'
GROUP BY s.pos, s.eid, s.lo, s.hi
"""

# Raw results: each holds until the next one or goes stale (``stale`` intervals of its
# endpoint): the rest is unknown, never up. Results before ``lo`` only lend coverage.
RAW_WIDE = """
SELECT {i} AS pos, p.endpoint_id COLLATE "C" AS eid, %(lo{i})s::float8 AS lo,
       %(hi{i})s::float8 AS hi,
       p.time, p.ok, e.interval_seconds
FROM probe_results p JOIN endpoints e ON e.id = p.endpoint_id
WHERE p.time >= to_timestamp(%(lo{i})s - %(lookback)s) AND p.time < to_timestamp(%(hi{i})s)
"""
RAW_NARROW = """
SELECT n.ord - 1 AS pos, NULL::text COLLATE "C" AS eid, n.lo, n.hi, p.time, p.ok,
       e.interval_seconds
FROM unnest(%(ids)s::text[], %(lo)s::float8[], %(hi)s::float8[])
     WITH ORDINALITY AS n(eid, lo, hi, ord)
JOIN endpoints e ON e.id = n.eid
JOIN probe_results p ON p.endpoint_id = n.eid
 AND p.time >= to_timestamp(n.lo - %(stale)s * e.interval_seconds) AND p.time < to_timestamp(n.hi)
"""
RAW = """
WITH r AS (
    SELECT s.pos, s.eid, s.lo, s.hi, s.ok, s.interval_seconds * %(stale)s AS stale,
           date_part('epoch', s.time) AS t,
           lead(date_part('epoch', s.time))
               OVER (PARTITION BY s.pos, s.eid ORDER BY s.time) AS next_t
    FROM ({source}) s
), c AS (
    SELECT pos, eid, t >= lo AS inside, ok,
           greatest(0, least(coalesce(next_t, 'Infinity'), t + stale, hi) - greatest(t, lo))
               AS secs
    FROM r
)
SELECT pos, eid, count(*) FILTER (WHERE inside), count(*) FILTER (WHERE inside AND ok),
       coalesce(sum(secs) FILTER (WHERE NOT ok), 0), coalesce(sum(secs), 0), NULL::int8
FROM c GROUP BY pos, eid
"""

FAILED_RUNS = """
WITH r AS (
    -- Every ok result starts a new group: consecutive failures share one.
    SELECT n.ord, n.eid, p.time, p.ok,
           count(*) FILTER (WHERE p.ok) OVER (PARTITION BY n.ord ORDER BY p.time) AS grp
    FROM unnest(%s::text[], %s::float8[], %s::float8[]) WITH ORDINALITY AS n(eid, lo, hi, ord)
    JOIN probe_results p ON p.endpoint_id = n.eid
     AND p.time >= to_timestamp(n.lo) AND p.time < to_timestamp(n.hi)
), runs AS (
    SELECT eid, min(time) AS started, max(time) AS last_failed, count(*) AS failures
    FROM r WHERE NOT ok GROUP BY ord, eid, grp HAVING count(*) >= %s
)
SELECT eid, started, (SELECT p.time FROM probe_results p WHERE p.endpoint_id = runs.eid
                      AND p.time > runs.last_failed AND p.ok ORDER BY p.time LIMIT 1),
       failures
FROM runs ORDER BY started, eid
"""

SERIES = """
SELECT s.id, coalesce(
        (SELECT value FROM series_samples WHERE series_id = s.id AND time >= %(start)s
          AND time < %(end)s ORDER BY time DESC LIMIT 1),
        (SELECT last FROM series_rollups WHERE series_id = s.id AND bucket >= %(start)s
          AND bucket < %(end)s ORDER BY bucket DESC, resolution = 'hour' DESC LIMIT 1)),
    d.increase, d.n, h.increase, h.n
FROM unnest(%(ids)s::text[]) AS s(id),
LATERAL (SELECT sum(increase) AS increase, count(increase) AS n FROM series_rollups
         WHERE series_id = s.id AND resolution = 'day' AND bucket >= %(start)s
         AND bucket < %(end)s) d,
LATERAL (SELECT sum(increase) AS increase, count(increase) AS n FROM series_rollups
         WHERE series_id = s.id AND resolution = 'hour' AND bucket >= %(start)s
         AND bucket < %(end)s) h
"""
