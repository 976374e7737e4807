-- The live feed shared by every serve process on this database (monitor_center/live/bridge.py).
-- A publisher locks the one head row, numbers its events, inserts them and NOTIFYs
-- 'monitor_center_live' in the same transaction: the row lock makes commit order, and
-- so notification order, the numbering order.

CREATE TABLE live_feed_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    n    bigint NOT NULL,  -- events so far, no gaps: a listener sees what it missed
    seq  bigint NOT NULL   -- the feed's seq of the latest event; may jump, never goes down
);
-- seq starts at the current time in microseconds, like a single process's feed did, so
-- a number a client got from a center before this migration is never reused.
INSERT INTO live_feed_head (id, n, seq)
VALUES (true, 0, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);

-- The recent events, for a listener that reconnects, a payload too big for NOTIFY and
-- a process that starts (its resume ring). Pruned by publishers to the latest few
-- thousand.
CREATE TABLE live_events (
    n          bigint PRIMARY KEY,
    seq        bigint NOT NULL,
    message    json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
