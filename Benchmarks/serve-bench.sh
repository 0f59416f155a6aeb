#!/usr/bin/env bash
# Measures serving: N real cgroups, the agent (release build, housekeeping 10 s, default metric
# kinds, sandbox on) on a loopback port; for /metrics and /api/v2.0/stats?recursive=true: the
# response size, wrk's latency percentiles with one connection (one scrape at a time, as Prometheus
# scrapes), and the agent's RSS after 20 warm-up scrapes, after every 10 s of the top-up to
# 10,000 scrapes (two connections) and at the end. Cleans up everything.
# Usage (root): Benchmarks/serve-bench.sh N        e.g. 200   (SCRAPES=1000 for fewer than 10,000;
#               PATHS=/metrics for one endpoint; STORAGE=10s for a stats answer of steady size)
set -euo pipefail
N=${1:?N}
SCRAPES=${SCRAPES:-10000}
# The stats answer holds every stored sample (cAdvisor's default count is 64): with cAdvisor's 2m
# storage it grows from 1 to 12 samples per container during a run; STORAGE=10s keeps it at 1-2.
STORAGE=${STORAGE:-2m}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release >/dev/null
command -v wrk >/dev/null || bash scripts/install-deps.sh --bench >/dev/null
source Benchmarks/cgroups.sh
EXTRA_CLEANUP='[ -n "${agent:-}" ] && kill -9 "$agent" 2>/dev/null || true'
make_cgroups "$N"
PORT=$((20000 + RANDOM % 30000))
"$BIN" -port=$PORT -listen_ip=127.0.0.1 -housekeeping_interval=10s -storage_duration="$STORAGE" 2>/dev/null &
agent=$!
URL=http://127.0.0.1:$PORT
wait_for_cgroups "$N"
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$agent/status; }
printf 'serve-bench: %d cgroups (%d containers exported), -storage_duration=%s\n' "$N" "$seen" "$STORAGE"
for path in ${PATHS:-/metrics /api/v2.0/stats?recursive=true}; do
  size=$(curl -s "$URL$path" | wc -c)
  gz=$(curl -s -H 'Accept-Encoding: gzip' "$URL$path" | wc -c)
  for _ in $(seq 1 20); do curl -s "$URL$path" >/dev/null; done # warm-up: first-scrape buffers
  before=$(rss)
  out=$(wrk -t1 -c1 -d20s --latency "$URL$path")
  p50=$(echo "$out" | awk '$1=="50%" {print $2}'); p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  # Top up to $SCRAPES scrapes with two connections.
  more=$((SCRAPES - reqs)); [ "$more" -lt 0 ] && more=0
  done_more=0; trend=""
  while [ "$done_more" -lt "$more" ]; do
    n=$(wrk -t2 -c2 -d10s "$URL$path" | awk '/requests in/ {print $1}')
    done_more=$((done_more + n)); trend="$trend $(rss)"
  done
  after=$(rss)
  printf '  %-32s %9d bytes (gzip %7d)  p50 %-9s p99 %-9s  RSS %s MiB -> %s MiB after %d scrapes\n' \
    "$path" "$size" "$gz" "$p50" "$p99" "$before" "$after" "$((reqs + done_more))"
  printf '    RSS after each 10 s of two-connection scraping (MiB):%s\n' "$trend"
done
grep -E "^(Seccomp):" /proc/$agent/status | tr -d '\t' | sed 's/^/  /'
