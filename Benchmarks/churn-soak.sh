#!/usr/bin/env bash
# Memory under churn: runs the agent (static release build, housekeeping 1 s, default metric kinds,
# sandbox on) on a loopback port while cgroups come and go, and samples its VmRSS, RssAnon, open
# descriptors, threads and inotify watches (`inotify wd:` lines of /proc/<pid>/fdinfo/*).
#
# Raw cgroups (default): CYCLES cgroup lives (default 20000), BATCH at a time (default 50): a batch
# is made in every v1 hierarchy the agent watches (and the cgroup2 mount on hybrid hosts), a
# `sleep` is moved into each, the script waits until the agent lists them all, then kills the
# sleeps and removes the cgroups. One cycle is one cgroup's life. Samples every EVERY cycles (1000).
# Verdict: RSS grows by at most LIMIT_KIB (2048) over the second half; threads end where they
# started, descriptors too (when the host ends with the cgroups it started with: other users may
# make some), and the agent holds one inotify watch per directory of the hierarchies it watches.
#
# Docker (DOCKER=N, e.g. 500): N real containers (local/busybox:1 from scripts/runtimes/docker-start.sh)
# started BATCH at a time (default 25) and removed once the agent has their runtime metadata;
# samples every EVERY containers (default 50). A dockerd already answering on /var/run/docker.sock
# is used as it is; one started here is stopped here. Same verdict over the second half.
#
# This host is shared: other users' cgroups come and go. With ISOLATE=1 (the default) the agent
# keeps only the cgroups made here, runtime containers and the root (`-docker_only` with
# `-raw_cgroup_prefix_whitelist`); discovery still watches every directory. ISOLATE=0 keeps everything.
# AGENT_FLAGS adds flags to the agent (e.g. `-event_storage_event_limit=default=100`). Cleans up
# every cgroup, process, container and daemon it started, even on failure.
# Usage (root): Benchmarks/churn-soak.sh            CYCLES=2000 Benchmarks/churn-soak.sh
#               DOCKER=500 Benchmarks/churn-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKER=${DOCKER:-0}
if [ "$DOCKER" -gt 0 ]; then CYCLES=$DOCKER; BATCH=${BATCH:-25}; EVERY=${EVERY:-50}
else CYCLES=${CYCLES:-20000}; BATCH=${BATCH:-50}; EVERY=${EVERY:-1000}; fi
LIMIT_KIB=${LIMIT_KIB:-2048}
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release --static-swift-stdlib --product node-metrics >/dev/null

PARENT=node-metrics-churn-$$
ROOT=/sys/fs/cgroup
if grep -q " /sys/fs/cgroup cgroup2 " /proc/self/mountinfo; then CTRLS=(.)
else
  CTRLS=()
  for c in cpu cpuacct cpuset memory blkio pids hugetlb unified; do
    if awk -v m="$ROOT/$c" '$5 == m {f=1} END {exit !f}' /proc/self/mountinfo; then CTRLS+=("$c"); fi
  done
fi
STATE=/tmp/node-metrics-churn-$$; mkdir -p "$STATE"
agent=""; started_dockerd=0; pids=()
cleanup() {
  set +e
  [ -n "$agent" ] && kill -9 "$agent" 2>/dev/null
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ "$DOCKER" -gt 0 ] && [ -s "$STATE/containers" ]; then
    xargs -r docker rm -f <"$STATE/containers" >/dev/null 2>&1
  fi
  [ "$started_dockerd" = 1 ] && STATE=$STATE bash scripts/runtimes/docker-stop.sh
  wait 2>/dev/null
  for c in "${CTRLS[@]}"; do
    d=$ROOT/$c/$PARENT
    [ -d "$d" ] || continue
    for cg in "$d"/*/; do
      [ -d "$cg" ] || continue
      xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null
      for _ in 1 2 3 4 5; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    done
    rmdir "$d" 2>/dev/null
  done
  rm -rf "$STATE"
}
trap cleanup EXIT
trap "exit 130" INT TERM

if [ "$DOCKER" -gt 0 ]; then
  if ! curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
    STATE=$STATE bash scripts/runtimes/docker-start.sh >/dev/null
    started_dockerd=1
  fi
  docker image inspect local/busybox:1 >/dev/null 2>&1 || STATE=$STATE bash scripts/runtimes/docker-start.sh >/dev/null
  : >"$STATE/containers"
fi

PORT=$((20000 + RANDOM % 30000))
FLAGS="-housekeeping_interval=1s"
[ "${ISOLATE:-1}" = 1 ] && FLAGS="$FLAGS -docker_only -raw_cgroup_prefix_whitelist=/$PARENT"
FLAGS="$FLAGS ${AGENT_FLAGS:-}"
# shellcheck disable=SC2086
"$BIN" -listen_ip=127.0.0.1 -port=$PORT $FLAGS 2>"$STATE/agent.log" &
agent=$!
URL=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$URL/healthz" >/dev/null || { echo "agent did not start:"; cat "$STATE/agent.log"; exit 1; }

kib() { awk -v k="$1" '$1 == k":" {print $2}' /proc/$agent/status; }
watches() { cat /proc/$agent/fdinfo/* 2>/dev/null | grep -c '^inotify wd:' || true; }
fds() { ls /proc/$agent/fd | wc -l; }
threads() { kib Threads; }
# Directories in the hierarchies the agent watches (the v1 controllers, or the cgroup2 mount on v2):
# it holds one inotify watch per directory. Other users of this host may add or remove some.
WATCHED=(); for c in "${CTRLS[@]}"; do [ "$c" = unified ] || WATCHED+=("$ROOT/$c"); done
cgroups() { find "${WATCHED[@]}" -type d 2>/dev/null | wc -l; }
T0=$(date +%s.%N)
declare -a ROWS
sample() { # cycle
  ROWS+=("$(printf '%7d %7.0f %9.1f %9.1f %5d %7d %7d %7d' "$1" "$(echo "$(date +%s.%N) - $T0" | bc)" \
    "$(echo "$(kib VmRSS)/1024" | bc -l)" "$(echo "$(kib RssAnon)/1024" | bc -l)" "$(fds)" "$(threads)" "$(watches)" "$(cgroups)")")
  echo "${ROWS[-1]}" >&2
}
# Names the agent lists under a prefix (v2 spec, recursive).
listed() { curl -s "$URL/api/v2.0/spec/$1?recursive=true" | { grep -o "\"/$1/[^\"]*\":" || true; } | wc -l; }
# Waits until `check` prints at least $1 (10 s at most).
wait_for() { local want=$1; shift; for _ in $(seq 1 200); do [ "$("$@")" -ge "$want" ] && return 0; sleep 0.05; done
  echo "timed out waiting for the agent ($*: $("$@") of $want)" >&2; }

# First discovery and samples; libdispatch's idle worker threads exit after a few seconds.
SETTLE=${SETTLE:-8}
sleep "$SETTLE"
start_fds=$(fds); start_threads=$(threads); start_watches=$(watches); start_cgroups=$(cgroups)
printf '%7s %7s %9s %9s %5s %7s %7s %7s\n' cycle seconds "RSS MiB" "anon MiB" fds threads watches cgroups >&2
sample 0

if [ "$DOCKER" -eq 0 ]; then
  for c in "${CTRLS[@]}"; do
    mkdir -p "$ROOT/$c/$PARENT"
    if [ "$c" = cpuset ]; then
      cat "$ROOT/cpuset/cpuset.cpus" >"$ROOT/cpuset/$PARENT/cpuset.cpus"
      cat "$ROOT/cpuset/cpuset.mems" >"$ROOT/cpuset/$PARENT/cpuset.mems"
    fi
  done
  sleep 1
  cpus=$(cat "$ROOT/cpuset/cpuset.cpus" 2>/dev/null || true); mems=$(cat "$ROOT/cpuset/cpuset.mems" 2>/dev/null || true)
  done_cycles=0
  while [ "$done_cycles" -lt "$CYCLES" ]; do
    n=$((CYCLES - done_cycles)); [ "$n" -gt "$BATCH" ] && n=$BATCH
    pids=()
    for i in $(seq 1 "$n"); do
      name=$((done_cycles + i))
      for c in "${CTRLS[@]}"; do
        mkdir "$ROOT/$c/$PARENT/$name"
        if [ "$c" = cpuset ]; then
          echo "$cpus" >"$ROOT/cpuset/$PARENT/$name/cpuset.cpus"; echo "$mems" >"$ROOT/cpuset/$PARENT/$name/cpuset.mems"
        fi
      done
      sleep 100000 &
      pids+=($!)
      for c in "${CTRLS[@]}"; do echo "$!" >"$ROOT/$c/$PARENT/$name/cgroup.procs"; done
    done
    wait_for "$n" listed "$PARENT"
    kill -9 "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
    for i in $(seq 1 "$n"); do
      for c in "${CTRLS[@]}"; do rmdir "$ROOT/$c/$PARENT/$((done_cycles + i))"; done
    done
    prev=$done_cycles; done_cycles=$((done_cycles + n))
    if [ $((done_cycles / EVERY)) -gt $((prev / EVERY)) ] && [ "$done_cycles" -lt "$CYCLES" ]; then sample "$done_cycles"; fi
  done
  for c in "${CTRLS[@]}"; do rmdir "$ROOT/$c/$PARENT"; done
  what="raw cgroups ($BATCH at a time, ${#CTRLS[@]} hierarchies)"
else
  # Docker names a container's cgroup /docker/<id> with the cgroupfs driver; wait for its metadata.
  docker_known() { curl -s "$URL/api/v1.3/docker/" | { grep -o '"namespace":"docker"' || true; } | wc -l; }
  base=$(docker_known)
  done_cycles=0
  while [ "$done_cycles" -lt "$CYCLES" ]; do
    n=$((CYCLES - done_cycles)); [ "$n" -gt "$BATCH" ] && n=$BATCH
    ids=$(seq 1 "$n" | xargs -P 4 -I{} docker run -d local/busybox:1 sleep 100000)
    echo "$ids" >"$STATE/containers"
    wait_for $((base + n)) docker_known
    echo "$ids" | xargs -r docker rm -f >/dev/null
    : >"$STATE/containers"
    prev=$done_cycles; done_cycles=$((done_cycles + n))
    if [ $((done_cycles / EVERY)) -gt $((prev / EVERY)) ] && [ "$done_cycles" -lt "$CYCLES" ]; then sample "$done_cycles"; fi
  done
  for _ in $(seq 1 100); do [ "$(docker_known)" -le "$base" ] && break; sleep 0.1; done
  what="Docker containers ($BATCH at a time)"
fi
sleep "$SETTLE" # the last removals reach the agent; idle threads exit as at the start
sample "$CYCLES"
end_fds=$(fds); end_threads=$(threads); end_watches=$(watches); end_cgroups=$(cgroups)
elapsed=$(echo "$(date +%s.%N) - $T0" | bc)

# Growth over the second half: RSS at the end against the sample nearest the middle.
mid=$(printf '%s\n' "${ROWS[@]}" | awk -v h=$((CYCLES / 2)) '$1 >= h {print $3; exit}')
last=$(printf '%s\n' "${ROWS[@]}" | awk 'END {print $3}')
growth_kib=$(echo "($last - $mid) * 1024" | bc -l | xargs printf '%.0f')
printf '\nchurn-soak: %d %s in %.0f s; agent flags: %s\n' "$CYCLES" "$what" "$elapsed" "$FLAGS"
printf '%7s %7s %9s %9s %5s %7s %7s %7s\n' cycle seconds "RSS MiB" "anon MiB" fds threads watches cgroups
printf '%s\n' "${ROWS[@]}"
verdict=PASS
[ "$growth_kib" -le "$LIMIT_KIB" ] || verdict=FAIL
[ "$end_threads" -eq "$start_threads" ] || verdict=FAIL
# Watches: one per directory of the watched hierarchies, whoever made them.
[ "$end_watches" -eq "$end_cgroups" ] || verdict=FAIL
# Descriptors follow the cgroups kept: comparable when isolated, or when the host has the cgroups
# it started with.
note=""
if [ "${ISOLATE:-1}" = 1 ] || [ "$end_cgroups" -eq "$start_cgroups" ]; then [ "$end_fds" -eq "$start_fds" ] || verdict=FAIL
else note=" (others changed this host's cgroups: $start_cgroups -> $end_cgroups directories; fds not compared)"; fi
printf 'RSS over the second half: %s -> %s MiB (%+d KiB, limit %d KiB); fds %d -> %d, threads %d -> %d, watches %d -> %d for %d directories%s: %s\n' \
  "$mid" "$last" "$growth_kib" "$LIMIT_KIB" "$start_fds" "$end_fds" "$start_threads" "$end_threads" "$start_watches" "$end_watches" \
  "$end_cgroups" "$note" "$verdict"
[ "$verdict" = PASS ]
