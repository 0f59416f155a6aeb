#!/usr/bin/env bash
# What a storage driver costs: N real cgroups (default 200), the agent (release build, housekeeping
# 1 s, dynamic housekeeping off, sandbox on) on a loopback port, measured for MEASURE seconds (60)
# after a warm-up of WARMUP seconds (20) in three runs:
#   1. no -storage_driver (the baseline);
#   2. -storage_driver=$DRIVER (influxdb by default, or redis) to a real local backend on loopback;
#   3. the same driver with its backend down (stopped before the agent starts) for DOWN seconds
#      (300): the RSS every 30 s must level off (the buffer is bounded by
#      -storage_driver_buffer_duration, 60 s by default, and -storage_driver_buffer_samples).
# CPU is the agent's utime+stime over the window (/proc/<pid>/stat) as % of one core; RSS is VmRSS.
# Cleans up every cgroup, process and temp dir it made, even on failure.
# Usage (root): Benchmarks/storage-bench.sh [N]     DRIVER=redis DOWN=60 Benchmarks/storage-bench.sh 200
set -euo pipefail
N=${1:-200}
DRIVER=${DRIVER:-influxdb}
MEASURE=${MEASURE:-60}
WARMUP=${WARMUP:-20}
DOWN=${DOWN:-300}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release --product node-metrics >/dev/null
source Benchmarks/cgroups.sh
TMP=$(mktemp -d /tmp/node-metrics-storage-bench-XXXXXX)
agent=""; backend=""
EXTRA_CLEANUP='[ -n "$agent" ] && kill -9 "$agent" 2>/dev/null; [ -n "$backend" ] && kill "$backend" 2>/dev/null; sleep 0.3; rm -rf "$TMP"; true'
make_cgroups "$N"
BPORT=$((20000 + RANDOM % 30000))
start_backend() {
  if [ "$DRIVER" = influxdb ]; then
    cat > "$TMP/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$((BPORT + 1))"
[meta]
  dir = "$TMP/meta"
[data]
  dir = "$TMP/data"
  wal-dir = "$TMP/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$BPORT"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
    influxd -config "$TMP/influxdb.conf" >/dev/null 2>&1 &
    backend=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$BPORT/ping" >/dev/null && break; sleep 0.2; done
    curl -sf -XPOST "http://127.0.0.1:$BPORT/query" --data-urlencode "q=CREATE DATABASE cadvisor" >/dev/null
  else
    redis-server --port "$BPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >/dev/null 2>&1 &
    backend=$!
    for _ in $(seq 1 50); do redis-cli -p "$BPORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
  fi
}
stop_backend() { [ -n "$backend" ] && kill "$backend" 2>/dev/null; wait "$backend" 2>/dev/null || true; backend=""; }
ticks() { awk '{print $14 + $15}' /proc/$agent/stat; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$agent/status; }
start_agent() {
  PORT=$((20000 + RANDOM % 30000))
  "$BIN" -port=$PORT -listen_ip=127.0.0.1 -housekeeping_interval=1s -allow_dynamic_housekeeping=false "$@" 2>"$TMP/agent.log" &
  agent=$!
  URL=http://127.0.0.1:$PORT
  wait_for_cgroups "$N"
}
stop_agent() { kill "$agent"; wait "$agent" 2>/dev/null || true; agent=""; }
measure() { # label
  sleep "$WARMUP"
  local t0 t1 hz; hz=$(getconf CLK_TCK); t0=$(ticks); sleep "$MEASURE"; t1=$(ticks)
  printf '  %-44s CPU %5.1f %% of a core   RSS %6s MiB\n' "$1" "$(echo "($t1 - $t0) * 100 / $hz / $MEASURE" | bc -l)" "$(rss)"
}
counter() { curl -s "$URL/metrics" | awk -v n="$1{driver=\"$DRIVER\"}" '$1 == n {print $2}'; }
echo "storage-bench: $N cgroups, housekeeping 1 s, driver $DRIVER, ${MEASURE}s windows after ${WARMUP}s warm-up"
start_agent
echo "  ($seen cgroups of the bench exported)"
measure "no storage driver"
stop_agent
start_backend
start_agent -storage_driver="$DRIVER" -storage_driver_host=127.0.0.1:$BPORT
measure "-storage_driver=$DRIVER (backend up)"
printf '    sent %s samples, dropped %s, send errors %s\n' "$(counter node_metrics_storage_sent_samples_total)" \
  "$(counter node_metrics_storage_dropped_samples_total)" "$(counter node_metrics_storage_send_errors_total)"
stop_agent
stop_backend
start_agent -storage_driver="$DRIVER" -storage_driver_host=127.0.0.1:$BPORT
trend=""
for _ in $(seq 1 $((DOWN / 30))); do sleep 30; trend="$trend $(rss)"; done
printf '  %-44s RSS every 30 s (MiB):%s\n' "backend down for ${DOWN}s" "$trend"
printf '    buffered %s samples, dropped %s, send errors %s\n' "$(counter node_metrics_storage_buffered_samples)" \
  "$(counter node_metrics_storage_dropped_samples_total)" "$(counter node_metrics_storage_send_errors_total)"
stop_agent
