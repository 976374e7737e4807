-- Alerting: persisted alert states, their history, silences, maintenance and the outbox.

-- One row per alert: (rule, subject) has at most one open (pending or firing) alert.
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id          text NOT NULL,
    rule_kind        text NOT NULL,
    subject          text NOT NULL,
    subject_type     text NOT NULL DEFAULT 'endpoint',
    agency_id        text,
    agency_kind      text,
    severity         text NOT NULL,
    state            text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    summary          text NOT NULL DEFAULT '',
    value            double precision,
    started_at       timestamptz NOT NULL,
    fired_at         timestamptz,
    resolved_at      timestamptz,
    acknowledged_by  text,
    acknowledged_at  timestamptz,
    ack_comment      text,
    silenced         boolean NOT NULL DEFAULT false,
    inhibited        boolean NOT NULL DEFAULT false,
    in_maintenance   boolean NOT NULL DEFAULT false,
    flapping         boolean NOT NULL DEFAULT false,
    notified         boolean NOT NULL DEFAULT false,
    escalated        boolean NOT NULL DEFAULT false,
    notified_at      timestamptz,
    last_notified_at timestamptz,
    notified_channels text[] NOT NULL DEFAULT '{}',
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX alerts_one_open_idx ON alerts (rule_id, subject)
    WHERE state IN ('pending', 'firing');
CREATE INDEX alerts_started_idx ON alerts (started_at DESC);
CREATE INDEX alerts_agency_idx ON alerts (agency_id, started_at DESC);

-- Every transition and flag change, in order: the audit trail and the SLA's incident source.
CREATE TABLE alert_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    time      timestamptz NOT NULL,
    event     text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);

CREATE TABLE silences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matchers    jsonb NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    author      text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX silences_ends_idx ON silences (ends_at);

-- Planned windows; rows from the config file are replaced on every load (source = 'config').
CREATE TABLE maintenance_windows (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text,
    source      text NOT NULL DEFAULT 'api' CHECK (source IN ('config', 'api')),
    agency_id   text,
    endpoint_id text,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    recurring   text CHECK (recurring IN ('daily', 'weekly')),
    author      text NOT NULL DEFAULT 'config',
    comment     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (agency_id IS NOT NULL OR endpoint_id IS NOT NULL)
);

-- The outbox: written in the transaction of the alert change that causes it.
CREATE TABLE notifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id     bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    channel_id   text NOT NULL,
    status       text NOT NULL CHECK (status IN ('firing', 'resolved')),
    reason       text NOT NULL,
    payload      jsonb NOT NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    created_at   timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    lease_until  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    sent_at      timestamptz,
    finished_at  timestamptz
);
CREATE INDEX notifications_due_idx ON notifications (due_at) WHERE state = 'pending';
CREATE INDEX notifications_alert_idx ON notifications (alert_id, channel_id, id);

CREATE TABLE notification_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    started_at       timestamptz NOT NULL,
    duration_ms      real NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('sent', 'retry', 'permanent', 'expired')),
    status_code      integer,
    error            text
);
CREATE INDEX notification_attempts_idx ON notification_attempts (notification_id, id);
