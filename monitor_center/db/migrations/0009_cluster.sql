-- Scale-out (monitor_center/cluster/): the processes of a center share its endpoints
-- through lease rows in this database. A "cluster" is the set of processes running one
-- config (a fingerprint of it): processes on different configs never share work.

-- Every running process (serve or worker) heartbeats here; it is live while
-- expires_at is in the future (database time, never a process's own clock).
CREATE TABLE cluster_members (
    id           text PRIMARY KEY,
    cluster      text NOT NULL,
    role         text NOT NULL CHECK (role IN ('serve', 'worker')),
    host         text NOT NULL,
    pid          integer NOT NULL,
    api_url      text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX cluster_members_cluster_idx ON cluster_members (cluster, expires_at);

-- Who probes an endpoint: one row per (cluster, endpoint). A lease lasts as long as its
-- holder's heartbeat (a heartbeat is one row write, whatever the fleet's size); it is
-- taken with a compare-and-set update when free, already mine, or held by a member
-- whose heartbeat expired (that member's row locked while the claim re-checks it).
CREATE TABLE endpoint_leases (
    cluster     text NOT NULL,
    endpoint_id text NOT NULL,
    holder      text,
    claimed_at  timestamptz,
    PRIMARY KEY (cluster, endpoint_id)
);
CREATE INDEX endpoint_leases_holder_idx ON endpoint_leases (holder) WHERE holder IS NOT NULL;

-- The one process per cluster that runs the once-per-center jobs (alert evaluation, the
-- outbox dispatcher, series polling, rollups). term grows with every change of holder.
CREATE TABLE leader_leases (
    cluster    text PRIMARY KEY,
    holder     text,
    expires_at timestamptz NOT NULL,
    term       bigint NOT NULL DEFAULT 1
);
