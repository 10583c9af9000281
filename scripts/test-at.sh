#!/usr/bin/env bash
# Runs test suites with the machine's clock moved to a given instant (Debian's faketime), to show
# that no test depends on today's date: the clock starts at INSTANT and goes on from there, in
# every process the tests start (the service, influxd) alike.
#   scripts/test-at.sh 2026-12-31T23:55:00Z test/e2e test/api
set -euo pipefail
instant=${1:?usage: scripts/test-at.sh INSTANT [vitest filters...]}
shift
command -v faketime >/dev/null || { echo "faketime is missing (Debian: apt-get install faketime)" >&2; exit 1; }
offset=$(($(date -u -d "$instant" +%s) - $(date -u +%s)))
[ "$offset" -ge 0 ] && offset="+$offset"
echo "tests at $instant (the clock moved by ${offset} s)"
exec faketime -f "$offset" npx vitest run "$@"
