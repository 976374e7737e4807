#!/usr/bin/env bash
# Build and enable TimescaleDB (Apache-licensed part) for the local PostgreSQL 15 cluster.
#
# TimescaleDB is not packaged for Debian bookworm; its source is in Debian trixie and builds
# against postgresql-server-dev-15. The mirror is read from this machine's own apt sources,
# never written here. Idempotent: every step is skipped when its result is already present.
# Exit status: 0 installed (or already installed), 3 cannot install here (not root / no apt).
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
WORK="${TIMESCALEDB_BUILD_DIR:-/var/cache/monitor-center/timescaledb}"
CONF_DIR="/etc/postgresql/${PG_MAJOR}/main/conf.d"
CONF_FILE="${CONF_DIR}/50-timescaledb.conf"

log() { printf 'install-timescaledb: %s\n' "$*" >&2; }

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    log "not root or no apt-get: cannot install TimescaleDB here"
    exit 3
fi

installed() {
    local libdir
    libdir="$("${PG_CONFIG}" --pkglibdir 2>/dev/null)" || return 1
    ls "${libdir}"/timescaledb-*.so >/dev/null 2>&1 || [ -e "${libdir}/timescaledb.so" ]
}

mirror_uri() {
    # First Debian (non-security) URI from deb822 sources, then from one-line sources.
    local uri=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        uri="$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/ && $i ~ /debian/) {print $i; exit}}' \
            /etc/apt/sources.list.d/*.sources)"
    fi
    if [ -z "${uri}" ] && [ -f /etc/apt/sources.list ]; then
        uri="$(awk '$1 == "deb" && $2 !~ /security/ && $2 ~ /debian/ {print $2; exit}' /etc/apt/sources.list)"
    fi
    [ -n "${uri}" ] || { log "no Debian mirror found in the apt sources"; exit 3; }
    printf '%s\n' "${uri}"
}

build() {
    local need=()
    for pkg in "postgresql-server-dev-${PG_MAJOR}" cmake build-essential xz-utils dpkg-dev; do
        dpkg -s "${pkg}" >/dev/null 2>&1 || need+=("${pkg}")
    done
    if [ "${#need[@]}" -gt 0 ]; then
        log "installing ${need[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    mkdir -p "${WORK}/lists/partial" "${WORK}/src"
    local list="${WORK}/trixie-src.list"
    printf 'deb-src %s trixie main\n' "$(mirror_uri)" >"${list}"
    local opts=(-o "Dir::Etc::sourcelist=${list}" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=${WORK}/lists" -o "APT::Get::List-Cleanup=0")
    if ! compgen -G "${WORK}/src/timescaledb_*.orig.tar.*" >/dev/null; then
        log "fetching the timescaledb source from trixie"
        apt-get "${opts[@]}" update -qq
        (cd "${WORK}/src" && apt-get "${opts[@]}" source --download-only timescaledb)
    fi
    local orig tree
    orig="$(ls "${WORK}"/src/timescaledb_*.orig.tar.* | head -n1)"
    tree="${WORK}/tree"
    rm -rf "${tree}" && mkdir -p "${tree}"
    tar -xf "${orig}" -C "${tree}" --strip-components=1
    log "building $(basename "${orig}")"
    (cd "${tree}" && ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
        -DWARNINGS_AS_ERRORS=OFF -DPG_CONFIG="${PG_CONFIG}" >/dev/null \
        && cd build && make -j"$(nproc)" >/dev/null && make install >/dev/null)
}

if installed; then
    log "extension already built"
else
    build
fi

if ! grep -qs "timescaledb" "${CONF_FILE}"; then
    log "enabling shared_preload_libraries in ${CONF_FILE}"
    mkdir -p "${CONF_DIR}"
    printf "shared_preload_libraries = 'timescaledb'\ntimescaledb.telemetry_level = off\n" >"${CONF_FILE}"
fi

loaded="$(psql -h 127.0.0.1 -U postgres -Atc "show shared_preload_libraries" 2>/dev/null || true)"
if [[ "${loaded}" != *timescaledb* ]]; then
    log "restarting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR}" main restart
fi
log "TimescaleDB ready"
