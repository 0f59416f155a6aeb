#!/usr/bin/env bash
# The exporter's per-call cost, without the rest of the agent: N real cgroups (Benchmarks/cgroups.sh),
# then the hidden `node-metrics render-bench` subcommand (housekeeping 10 s, nothing served or sent)
# times ROUNDS remote-write request builds (`RemoteWriter.render`: series → WriteRequest → snappy,
# as the agent's remote-write thread does each interval, external label node=bench), snappy alone,
# and ROUNDS `/metrics` renders; prints median/p10/p90 µs per call. Cleans up the cgroups on exit.
# Usage (root): Benchmarks/render-bench.sh N [N…]       e.g. 200 2000
# BIN (default .build/release/node-metrics), ROUNDS (300), AGENT_FLAGS as in remote-write-bench.sh
# (AGENT_FLAGS=isolate: only the bench's cgroups and the root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 1 ]; then for n in "$@"; do bash "$0" "$n"; done; exit; fi
N=${1:?N}
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release >/dev/null
source Benchmarks/cgroups.sh
make_cgroups "$N"
"$BIN" render-bench --rounds "${ROUNDS:-300}" --containers "$N" -housekeeping_interval=10s -allow_dynamic_housekeeping=false \
  $(agent_flags) -remote_write_url=http://127.0.0.1:9/api/v1/write -remote_write_external_labels=node=bench 2>/dev/null
