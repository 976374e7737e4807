#!/bin/sh
# Create (or update) Grafana's login role as a member of monitor_center_reader.
#
# Run by docker-compose.yml's one-shot `grafana-login` service on every `up`, so a changed
# password takes effect. Connection from the libpq variables (PGHOST, PGUSER, PGPASSWORD,
# PGDATABASE); the login's name and password from MONITOR_GRAFANA_DB_USER and
# MONITOR_GRAFANA_DB_PASSWORD. The group role is created here too when the center's
# migrations have not run yet (0008 does the same, and grants SELECT when it runs).
set -eu
: "${MONITOR_GRAFANA_DB_PASSWORD:?set MONITOR_GRAFANA_DB_PASSWORD}"
user="${MONITOR_GRAFANA_DB_USER:-grafana}"

# psql interpolates :'pw' and :"user" itself (quoted), so no value is pasted into SQL.
psql -v ON_ERROR_STOP=1 -v user="$user" -v pw="$MONITOR_GRAFANA_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE monitor_center_reader NOLOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'monitor_center_reader')\gexec
SELECT format('CREATE ROLE %I LOGIN', :'user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user')\gexec
ALTER ROLE :"user" WITH LOGIN PASSWORD :'pw';
GRANT monitor_center_reader TO :"user";
-- Belt and braces: even a grant given by mistake later cannot make this login write.
ALTER ROLE :"user" SET default_transaction_read_only = on;
ALTER ROLE :"user" SET statement_timeout = '30s';
SQL
echo "grafana-login: role $user ready"
