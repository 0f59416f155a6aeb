#!/usr/bin/env bash
# What each storage driver costs: N real cgroups (default 200), the agent (release build, housekeeping
# 1 s, dynamic housekeeping off, sandbox on) on a loopback port, one agent per configuration:
#   - no -storage_driver (the baseline), then -storage_driver=<d> for each d of DRIVERS (default
#     stdout statsd influxdb redis kafka elasticsearch), each to a real or loopback counterpart
#     started here and kept up for the whole run:
#       stdout         the agent's stdout to /dev/null;
#       statsd         UDP to a python3 socket that reads and discards;
#       influxdb       Debian's influxd 1.6 (a cadvisor database);
#       redis          Debian's redis-server;
#       kafka          librdkafka's mock cluster (real Kafka protocol on loopback ports) in a small C
#                      helper built here on the C core's cgf_kafka_mock_new (Sources/CCgroupFast/kafka.c);
#                      the agent gets its bootstrap address as -storage_driver_kafka_broker_list;
#       elasticsearch  a python3 http.server answering /_bulk as Elasticsearch does ({"errors":false}).
#     (bigquery is not run: its endpoints are Google's and no flag points them elsewhere.)
#   - ROUNDS rounds (3), each measuring every configuration once in turn (baseline first), each for
#     MEASURE seconds (30) after WARMUP seconds (10); the figures are the medians over the rounds (the
#     machine is shared and noisy), a driver's extra cost the difference to the baseline's median.
#   - with DOWN > 0 (0), afterwards DOWN_DRIVER (influxdb) with its backend down for DOWN seconds: the
#     RSS every 30 s must level off (the buffer is bounded by -storage_driver_buffer_duration, 60 s by
#     default, and -storage_driver_buffer_samples).
# AGENT_FLAGS adds flags to every agent run (AGENT_FLAGS=isolate: only the bench's own cgroups and the
# root, -docker_only=true -raw_cgroup_prefix_whitelist=/<its parent>, for a machine others use too).
# CPU is the agent's utime+stime over the window (/proc/<pid>/stat) as % of one core; RSS is VmRSS.
# "sender µs/sample" is the CPU time of the driver's own sender thread (nm-storage-*, its schedstat in
# ns: encoding and sending) over the window divided by the samples it sent meanwhile; the sampler's
# share (offering each sample to the buffer) is only in the agent's total.
# Cleans up every cgroup, process and temp dir it made, even on failure.
# Usage (root): Benchmarks/storage-bench.sh [N]     DRIVERS="influxdb redis" ROUNDS=5 DOWN=300 Benchmarks/storage-bench.sh 200
set -euo pipefail
N=${1:-200}
DRIVERS=${DRIVERS:-stdout statsd influxdb redis kafka elasticsearch}
ROUNDS=${ROUNDS:-3}
MEASURE=${MEASURE:-30}
WARMUP=${WARMUP:-10}
DOWN=${DOWN:-0}
DOWN_DRIVER=${DOWN_DRIVER:-influxdb}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release --static-swift-stdlib --product node-metrics >/dev/null
CC=${CC:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
source Benchmarks/cgroups.sh
TMP=$(mktemp -d /tmp/node-metrics-storage-bench-XXXXXX)
agent=""; backends=""
EXTRA_CLEANUP='[ -n "$agent" ] && kill -9 "$agent" 2>/dev/null; for b in $backends; do kill "$b" 2>/dev/null; done; sleep 0.3; rm -rf "$TMP"; true'
make_cgroups "$N"
free_port() { echo $((20000 + RANDOM % 30000)); }

start_influxdb() {
  IPORT=$(free_port)
  cat > "$TMP/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$((IPORT + 1))"
[meta]
  dir = "$TMP/meta"
[data]
  dir = "$TMP/data"
  wal-dir = "$TMP/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$IPORT"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
  influxd -config "$TMP/influxdb.conf" >/dev/null 2>&1 &
  influxd_pid=$!; backends="$backends $!"
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$IPORT/ping" >/dev/null && break; sleep 0.2; done
  curl -sf -XPOST "http://127.0.0.1:$IPORT/query" --data-urlencode "q=CREATE DATABASE cadvisor" >/dev/null
}
start_redis() {
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >/dev/null 2>&1 &
  backends="$backends $!"
  for _ in $(seq 1 50); do redis-cli -p "$RPORT" PING >/dev/null 2>&1 && break; sleep 0.2; done
  # The list grows by ~200 documents a second: trimmed so the run's memory stays flat.
  (while sleep 5; do redis-cli -p "$RPORT" LTRIM cadvisor 0 999 >/dev/null 2>&1 || true; done) &
  backends="$backends $!"
}
start_statsd() {
  SPORT=$(free_port)
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
while True: s.recv(65536)' "$SPORT" &
  backends="$backends $!"
}
start_kafka() {
  cat > "$TMP/kafka-mock.c" <<'C'
/* librdkafka's mock cluster (through the C core) until killed; prints its bootstrap address. */
#include "cgf_push.h"
#include <stdio.h>
#include <unistd.h>
int main(void) {
    char bootstrap[256], err[256];
    cgf_kafka_mock *m = cgf_kafka_mock_new(1, "stats", 1, bootstrap, sizeof bootstrap, err, sizeof err);
    if (!m) { fprintf(stderr, "mock cluster: %s\n", err); return 1; }
    printf("%s\n", bootstrap);
    fflush(stdout);
    for (;;) pause();
}
C
  "$CC" -std=c11 -D_GNU_SOURCE -O1 -ISources/CCgroupFast/include "$TMP/kafka-mock.c" Sources/CCgroupFast/kafka.c Sources/CCgroupFast/dl.c \
    -o "$TMP/kafka-mock"
  "$TMP/kafka-mock" > "$TMP/kafka-bootstrap" &
  backends="$backends $!"
  for _ in $(seq 1 50); do [ -s "$TMP/kafka-bootstrap" ] && break; sleep 0.1; done
  KAFKA=$(head -1 "$TMP/kafka-bootstrap")
}
start_elasticsearch() {
  EPORT=$(free_port)
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        out = b"{\"took\":1,\"errors\":false,\"items\":[]}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$EPORT" &
  backends="$backends $!"
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$EPORT/" && break; sleep 0.1; done
}
flags_for() { # driver -> the agent's flags
  case "$1" in
    none) ;;
    stdout) echo "-storage_driver=stdout" ;;
    statsd) echo "-storage_driver=statsd -storage_driver_host=127.0.0.1:$SPORT" ;;
    influxdb) echo "-storage_driver=influxdb -storage_driver_host=127.0.0.1:$IPORT" ;;
    redis) echo "-storage_driver=redis -storage_driver_host=127.0.0.1:$RPORT" ;;
    kafka) echo "-storage_driver=kafka -storage_driver_kafka_broker_list=$KAFKA" ;;
    elasticsearch) echo "-storage_driver=elasticsearch -storage_driver_es_host=http://127.0.0.1:$EPORT" ;;
    *) echo "storage-bench: no counterpart for driver $1" >&2; exit 2 ;;
  esac
}

ticks() { awk '{print $14 + $15}' /proc/$agent/stat; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$agent/status; }
start_agent() { # a random port may be taken (the machine is shared): another one, up to 5 times
  local try
  for try in 1 2 3 4 5; do
    PORT=$(free_port)
    # shellcheck disable=SC2068
    "$BIN" -port=$PORT -listen_ip=127.0.0.1 -housekeeping_interval=1s -allow_dynamic_housekeeping=false $(agent_flags) $@ \
      >/dev/null 2>"$TMP/agent.log" &
    agent=$!
    URL=http://127.0.0.1:$PORT
    for _ in $(seq 1 50); do curl -sf "$URL/healthz" >/dev/null && break; kill -0 "$agent" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$agent" 2>/dev/null; then wait_for_cgroups "$N"; return 0; fi
    wait "$agent" 2>/dev/null || true
    echo "storage-bench: the agent did not start (try $try): $(tail -1 "$TMP/agent.log")" >&2
  done
  agent=""; exit 1
}
stop_agent() { kill "$agent"; wait "$agent" 2>/dev/null || true; agent=""; }
counter() { curl -s "$URL/metrics" | awk -v n="$1{driver=\"$2\"}" '$1 == n {print $2}'; }
sender_ns() { thread_cpu_ns "$agent" "nm-storage-*"; } # CPU ns of the agent's storage sender threads so far
measure() { # driver round: appends CPU and RSS to $TMP/<driver>.cpu/.rss
  local d=$1 t0 t1 hz cpu mem s0=0 s1=0 n0=0 n1=0
  # shellcheck disable=SC2046
  start_agent $(flags_for "$d")
  sleep "$WARMUP"
  if [ "$d" != none ]; then s0=$(sender_ns); n0=$(counter node_metrics_storage_sent_samples_total "$d"); fi
  hz=$(getconf CLK_TCK); t0=$(ticks); sleep "$MEASURE"; t1=$(ticks)
  if [ "$d" != none ]; then s1=$(sender_ns); n1=$(counter node_metrics_storage_sent_samples_total "$d"); fi
  cpu=$(echo "($t1 - $t0) * 100 / $hz / $MEASURE" | bc -l)
  mem=$(rss)
  printf '%.2f\n' "$cpu" >> "$TMP/$d.cpu"; echo "$mem" >> "$TMP/$d.rss"
  local note=""
  if [ "$d" != none ]; then
    local per="n/a"
    [ "${n1:-0}" -gt "${n0:-0}" ] 2>/dev/null && per=$(echo "($s1 - $s0) / 1000 / ($n1 - $n0)" | bc -l) && printf '%.2f\n' "$per" >> "$TMP/$d.sender"
    note=$(printf 'sent %s, dropped %s, send errors %s, sender %.2f µs/sample' "$(counter node_metrics_storage_sent_samples_total "$d")" \
      "$(counter node_metrics_storage_dropped_samples_total "$d")" "$(counter node_metrics_storage_send_errors_total "$d")" "${per/n\/a/0}")
    echo "$note" > "$TMP/$d.note"
  fi
  printf '  round %s  %-14s CPU %5.2f %% of a core  RSS %6s MiB  %s\n' "$2" "$d" "$cpu" "$mem" "$note"
  stop_agent
}

for d in $DRIVERS; do
  case "$d" in
    statsd) start_statsd ;; influxdb) start_influxdb ;; redis) start_redis ;;
    kafka) start_kafka ;; elasticsearch) start_elasticsearch ;;
  esac
done
[ "$DOWN" -gt 0 ] && [ "$DOWN_DRIVER" = influxdb ] && [ -z "${IPORT:-}" ] && start_influxdb
echo "storage-bench: $N cgroups, housekeeping 1 s, ${ROUNDS} rounds of ${MEASURE}s windows after ${WARMUP}s warm-up; drivers: $DRIVERS"
for r in $(seq 1 "$ROUNDS"); do
  for d in none $DRIVERS; do measure "$d" "$r"; done
done
base_cpu=$(median < "$TMP/none.cpu"); base_rss=$(median < "$TMP/none.rss")
echo "storage-bench: medians over $ROUNDS rounds (extra: against the no-driver baseline of this run)"
printf '  %-14s %9s %11s %9s %10s %14s   %s\n' driver "CPU %" "extra CPU" "RSS MiB" "extra RSS" "sender µs/smp" "last round"
printf '  %-14s %9.2f %11s %9.1f %10s\n' "(none)" "$base_cpu" "" "$base_rss" ""
for d in $DRIVERS; do
  c=$(median < "$TMP/$d.cpu"); m=$(median < "$TMP/$d.rss"); u=$(median < "$TMP/$d.sender" 2>/dev/null || echo nan)
  printf '  %-14s %9.2f %+11.2f %9.1f %+10.1f %14s   %s\n' "$d" "$c" "$(echo "$c - $base_cpu" | bc -l)" "$m" \
    "$(echo "$m - $base_rss" | bc -l)" "$u" "$(cat "$TMP/$d.note")"
done

if [ "$DOWN" -gt 0 ]; then
  [ "$DOWN_DRIVER" = influxdb ] && { kill "$influxd_pid" 2>/dev/null; wait "$influxd_pid" 2>/dev/null || true; }
  [ "$DOWN_DRIVER" = redis ] && RPORT=$(free_port) # nothing listens there
  # shellcheck disable=SC2046
  start_agent $(flags_for "$DOWN_DRIVER")
  trend=""
  for _ in $(seq 1 $((DOWN / 30))); do sleep 30; trend="$trend $(rss)"; done
  printf '  %-44s RSS every 30 s (MiB):%s\n' "$DOWN_DRIVER down for ${DOWN}s" "$trend"
  printf '    buffered %s samples, dropped %s, send errors %s\n' "$(counter node_metrics_storage_buffered_samples "$DOWN_DRIVER")" \
    "$(counter node_metrics_storage_dropped_samples_total "$DOWN_DRIVER")" "$(counter node_metrics_storage_send_errors_total "$DOWN_DRIVER")"
  stop_agent
fi
