#!/usr/bin/env bash
# Install the reference tools the benchmarks compare against, from Debian's packages.
# Idempotent; as non-root it only reports what is missing (those rows then fall back to
# published figures or say "n/a").
set -euo pipefail
need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v wrk >/dev/null || need+=(wrk)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
    echo "bench: missing ${need[*]} (run as root to install); their rows fall back or read n/a" >&2
    exit 0
fi
apt-get update -qq
# The packages' own services are not wanted: the benchmarks start private instances on
# free loopback ports with their own configuration and data in temporary directories.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends \
    "${need[@]}" >/dev/null
for svc in nginx prometheus-blackbox-exporter prometheus prometheus-alertmanager; do
    service "$svc" stop >/dev/null 2>&1 || true
done
