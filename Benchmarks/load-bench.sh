#!/usr/bin/env bash
# Measures serving under concurrency: N real cgroups, the agent (release build, housekeeping 10 s,
# sandbox on) on a loopback port, then with wrk (all on loopback, bounded in time):
#   1. /healthz alone, one connection (the idle baseline);
#   2. /healthz, one connection, while 5 clients hammer the slow endpoints (3 on /api/v2.0/ps/, 2 on
#      /api/v2.0/stats?recursive=true&count=60) — what a liveness probe sees under load;
#   3. /metrics with 50 concurrent connections (50 scrapers at once);
#   4. kill -9, a new agent: the time until /healthz says ready, and how many cgroups it then knows.
# Prints p50/p99 and how many answers were not 2xx (503s from the per-endpoint limits). Cleans up.
# Usage (root): Benchmarks/load-bench.sh N     e.g. 200 or 2000   (SECONDS_EACH=20 by default)
set -euo pipefail
N=${1:?N}
D=${SECONDS_EACH:-20}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release --static-swift-stdlib --product node-metrics >/dev/null
command -v wrk >/dev/null || bash scripts/install-deps.sh --bench >/dev/null
source Benchmarks/cgroups.sh
EXTRA_CLEANUP='[ -n "${agent:-}" ] && kill -9 "$agent" 2>/dev/null; [ -n "${hammers:-}" ] && kill $hammers 2>/dev/null; true'
make_cgroups "$N"
PORT=$((20000 + RANDOM % 30000))
"$BIN" -port=$PORT -listen_ip=127.0.0.1 -housekeeping_interval=10s 2>/dev/null &
agent=$!; disown "$agent"
URL=http://127.0.0.1:$PORT
wait_for_cgroups "$N"
row() { # label, wrk output
  local p50 p99 reqs non2xx
  p50=$(echo "$2" | awk '$1=="50%" {print $2}'); p99=$(echo "$2" | awk '$1=="99%" {print $2}')
  reqs=$(echo "$2" | awk '/requests in/ {print $1}'); non2xx=$(echo "$2" | awk '/Non-2xx/ {print $5}')
  printf '  %-58s p50 %-9s p99 %-9s %7s requests, %s not 2xx\n' "$1" "$p50" "$p99" "$reqs" "${non2xx:-0}"
}
printf 'load-bench: %d cgroups (%d exported), %d s per row, agent pid %d\n' "$N" "$seen" "$D" "$agent"
row "/healthz, idle" "$(wrk -t1 -c1 -d${D}s --latency "$URL/healthz")"
wrk -t1 -c3 -d$((D + 4))s "$URL/api/v2.0/ps/" >/tmp/load-bench-ps.$$ 2>&1 & hammers="$!"
wrk -t1 -c2 -d$((D + 4))s "$URL/api/v2.0/stats?recursive=true&count=60" >/tmp/load-bench-stats.$$ 2>&1 & hammers="$hammers $!"
sleep 2
row "/healthz while 5 clients hammer ps and recursive stats" "$(wrk -t1 -c1 -d${D}s --latency "$URL/healthz")"
wait $hammers; hammers=""
row "  (the hammering: /api/v2.0/ps/, 3 connections)" "$(cat /tmp/load-bench-ps.$$)"
row "  (the hammering: recursive stats, 2 connections)" "$(cat /tmp/load-bench-stats.$$)"
rm -f /tmp/load-bench-ps.$$ /tmp/load-bench-stats.$$
row "/metrics, 50 concurrent connections" "$(wrk -t2 -c50 -d${D}s --latency "$URL/metrics")"
awk '/VmRSS|Threads/ {printf "  %s %s %s\n", $1, $2, $3}' /proc/$agent/status
kill -9 "$agent"; for _ in $(seq 1 500); do [ -e /proc/$agent ] || break; sleep 0.01; done
start=$(date +%s%N)
"$BIN" -port=$PORT -listen_ip=127.0.0.1 -housekeeping_interval=10s 2>/dev/null &
agent=$!; disown "$agent"
for _ in $(seq 1 3000); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.01; done
ready=$(( ($(date +%s%N) - start) / 1000000 ))
known=$(curl -s "$URL/api/v2.0/spec/$PARENT?recursive=true" | grep -o "\"/$PARENT/[0-9]*\"" | sort -u | wc -l)
printf '  after kill -9: a new agent ready (/healthz 200) in %d ms, knowing %d of the %d cgroups\n' "$ready" "$known" "$N"
