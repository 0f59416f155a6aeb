#!/usr/bin/env bash
# Cost of Prometheus remote write: N real cgroups (Benchmarks/cgroups.sh), the agent serving at
# housekeeping 1 s (dynamic housekeeping off), once without remote write and once pushing every
# second to a local victoria-metrics (random loopback port, temporary storage); for each run, its
# CPU as % of one core over SECONDS after a 15 s warm-up (/proc/<pid>/stat), the CPU of its
# remote-write threads (render and send, their schedstat) and its RSS at the end. ROUNDS (1) pairs
# of runs, off and on in turn; with more than one, the medians and the median extra CPU at the end
# (the machine is shared and noisy: a pair's difference is noisier than the threads' own figure).
# Cleans up the agent, the receiver, the cgroups and the temp dir, even on failure.
# Usage (root): [ROUNDS=5] Benchmarks/remote-write-bench.sh N SECONDS      e.g. 200 120
# RW_FLAGS adds flags to the remote-write run (e.g. RW_FLAGS=-remote_write_interval=10s); AGENT_FLAGS to
# both runs (on a shared machine, AGENT_FLAGS=isolate watches only the bench's own cgroups and the root:
# -docker_only=true -raw_cgroup_prefix_whitelist=/<its parent>).
set -euo pipefail
N=${1:?N}; SECONDS_TOTAL=${2:?seconds}
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release >/dev/null
source Benchmarks/cgroups.sh
TMP=$(mktemp -d /tmp/remote-write-bench-XXXXXX)
EXTRA_CLEANUP='for p in ${agent:-} ${vm:-}; do kill -9 $p 2>/dev/null || true; done; rm -rf "$TMP"'
make_cgroups "$N"
VMPORT=$((20000 + RANDOM % 30000))
/usr/bin/victoria-metrics -httpListenAddr=127.0.0.1:$VMPORT -storageDataPath="$TMP/vm" -loggerLevel=ERROR >"$TMP/vm.log" 2>&1 &
vm=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$VMPORT/health" >/dev/null && break; sleep 0.2; done
tck=$(getconf CLK_TCK)
ROUNDS=${ROUNDS:-1}
rw_ns() { thread_cpu_ns "$agent" "remote-write*"; } # CPU ns of the agent's remote-write threads so far
measure() { # label, extra flags...
  local label=$1; shift
  local port=$((20000 + RANDOM % 30000))
  URL=http://127.0.0.1:$port
  "$BIN" -port=$port -listen_ip=127.0.0.1 -housekeeping_interval=1s -allow_dynamic_housekeeping=false $(agent_flags) "$@" >"$TMP/agent.log" 2>&1 &
  agent=$!
  wait_for_cgroups "$N"
  sleep 15
  read -r t0 < <(awk '{print $14+$15}' /proc/$agent/stat); w0=$(date +%s.%N); r0=$(rw_ns)
  sleep "$SECONDS_TOTAL"
  read -r t1 < <(awk '{print $14+$15}' /proc/$agent/stat); w1=$(date +%s.%N); r1=$(rw_ns)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$agent/status); hwm=$(awk '/VmHWM/ {print $2}' /proc/$agent/status)
  kill "$agent"; wait "$agent" 2>/dev/null || true; agent=""
  cpu=$(echo "($t1 - $t0) / $tck / ($w1 - $w0) * 100" | bc -l); threads=$(echo "($r1 - $r0) / 10000000 / ($w1 - $w0)" | bc -l)
  printf 'remote-write-bench: %-16s %d cgroups (%d exported), %ds: CPU %.2f%% of one core (remote-write threads %.3f%%), RSS %.1f MiB (peak %.1f MiB)\n' \
    "$label" "$N" "$seen" "$SECONDS_TOTAL" "$cpu" "$threads" "$(echo "$rss/1024" | bc -l)" "$(echo "$hwm/1024" | bc -l)"
  echo "$cpu" >> "$TMP/${label%% *}.cpu"; echo "$threads" >> "$TMP/${label%% *}.threads"
}
for round in $(seq 1 "$ROUNDS"); do
  measure "off"
  measure "on (remote write)" -remote_write_url=http://127.0.0.1:$VMPORT/api/v1/write -remote_write_external_labels=node=bench ${RW_FLAGS:-}
  echo "$(tail -1 "$TMP/on.cpu") - $(tail -1 "$TMP/off.cpu")" | bc -l >> "$TMP/extra"
done
if [ "$ROUNDS" -gt 1 ]; then
  printf 'remote-write-bench: medians of %d rounds: off %.2f%%, on %.2f%%, extra %.2f%% of one core (pairs: %s), remote-write threads %.3f%%\n' \
    "$ROUNDS" "$(median < "$TMP/off.cpu")" "$(median < "$TMP/on.cpu")" "$(median < "$TMP/extra")" \
    "$(xargs printf '%+.2f ' < "$TMP/extra")" "$(median < "$TMP/on.threads")"
fi
series=$(curl -s "http://127.0.0.1:$VMPORT/api/v1/query?query=count(%7Bnode%3D%22bench%22%7D)" | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p')
echo "remote-write-bench: victoria-metrics holds ${series:-?} series from the run"
