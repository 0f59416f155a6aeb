#!/usr/bin/env bash
# Measures the collector as a whole process: N real cgroups (in every v1 hierarchy, or the unified
# one on v2) each holding a sleeping process, `node-metrics collect` with dynamic housekeeping off
# at the given interval for SECONDS; reports its CPU as % of one core (from /proc/<pid>/stat,
# after a 10 s warm-up) and its RSS at the end (VmRSS). Cleans up everything, even on failure.
# Usage (root): Benchmarks/manager-bench.sh N INTERVAL SECONDS     e.g. 200 1s 180
set -euo pipefail
N=${1:?N}; INTERVAL=${2:?interval}; SECONDS_TOTAL=${3:?seconds}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release >/dev/null
source Benchmarks/cgroups.sh
EXTRA_CLEANUP='[ -n "${collector:-}" ] && kill -9 "$collector" 2>/dev/null || true'
make_cgroups "$N"
sleep 1
tck=$(getconf CLK_TCK)
"$BIN" collect --duration "${SECONDS_TOTAL}s" --housekeeping_interval "$INTERVAL" \
  --allow_dynamic_housekeeping=false > /tmp/manager-bench-$$.out &
collector=$!
sleep 10
read -r t0 < <(awk '{print $14+$15}' /proc/$collector/stat)
w0=$(date +%s.%N)
sleep $((SECONDS_TOTAL - 15))
read -r t1 < <(awk '{print $14+$15}' /proc/$collector/stat)
w1=$(date +%s.%N)
rss=$(awk '/VmRSS/ {print $2}' /proc/$collector/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$collector/status)
fds=$(ls /proc/$collector/fd | wc -l)
wait "$collector"; collector=""
cpu=$(echo "($t1 - $t0) / $tck / ($w1 - $w0) * 100" | bc -l)
printf 'manager-bench: %d cgroups, interval %s, %ds: CPU %.2f%% of one core, RSS %.1f MiB (peak %.1f MiB), %d fds; %s\n' \
  "$N" "$INTERVAL" "$SECONDS_TOTAL" "$cpu" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)" "$fds" "$(cat /tmp/manager-bench-$$.out)"
rm -f /tmp/manager-bench-$$.out
