# Sourced by the benchmark scripts: N real cgroups (in every v1 hierarchy, or the unified one on
# v2) each holding a sleeping process, removed with everything in them on exit (even on failure).
# Sets PARENT; call make_cgroups N; the EXIT trap runs cleanup_cgroups (plus $EXTRA_CLEANUP).
PARENT=node-metrics-bench-$$
if grep -q " /sys/fs/cgroup cgroup2 " /proc/self/mountinfo; then CTRLS=(.); ROOT=/sys/fs/cgroup
else CTRLS=(cpu cpuacct cpuset memory blkio pids); ROOT=/sys/fs/cgroup; fi
sleepers=()
cleanup_cgroups() {
  eval "${EXTRA_CLEANUP:-true}"
  for p in "${sleepers[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  sleep 0.5
  for c in "${CTRLS[@]}"; do
    d=$ROOT/$c/$PARENT
    [ -d "$d" ] || continue
    for cg in "$d"/*/; do [ -d "$cg" ] && { cat "$cg/cgroup.procs" 2>/dev/null | xargs -r kill -9 2>/dev/null; rmdir "$cg" 2>/dev/null || true; }; done
    rmdir "$d" 2>/dev/null || true
  done
}
trap cleanup_cgroups EXIT
trap "exit 130" INT TERM
make_cgroups() {
  local n=$1 i c join
  for c in "${CTRLS[@]}"; do
    mkdir -p "$ROOT/$c/$PARENT"
    if [ "$c" = cpuset ]; then
      cat "$ROOT/cpuset/cpuset.cpus" > "$ROOT/cpuset/$PARENT/cpuset.cpus"
      cat "$ROOT/cpuset/cpuset.mems" > "$ROOT/cpuset/$PARENT/cpuset.mems"
    fi
  done
  for i in $(seq 1 "$n"); do
    join=""
    for c in "${CTRLS[@]}"; do
      mkdir "$ROOT/$c/$PARENT/$i"
      if [ "$c" = cpuset ]; then
        cat "$ROOT/cpuset/cpuset.cpus" > "$ROOT/cpuset/$PARENT/$i/cpuset.cpus"
        cat "$ROOT/cpuset/cpuset.mems" > "$ROOT/cpuset/$PARENT/$i/cpuset.mems"
      fi
      join="$join echo \$\$ > $ROOT/$c/$PARENT/$i/cgroup.procs;"
    done
    sh -c "$join exec sleep 100000" &
    sleepers+=($!)
    disown $!
  done
}
# Waits until the agent at $URL answers /healthz and exports all N cgroups of $PARENT on /metrics
# (each sampled once); sets seen to how many it exports.
wait_for_cgroups() {
  local n=$1
  for _ in $(seq 1 150); do curl -sf "$URL/healthz" >/dev/null && break; sleep 0.2; done
  for _ in $(seq 1 100); do
    seen=$(curl -s "$URL/metrics" | grep -c "^container_last_seen{.*id=\"/$PARENT/" || true)
    [ "$seen" -ge "$n" ] && break; sleep 0.5
  done
}
# The agent flags of $AGENT_FLAGS; "isolate" stands for watching only $PARENT's cgroups (and the root).
agent_flags() {
  if [ "${AGENT_FLAGS:-}" = isolate ]; then echo "-docker_only=true -raw_cgroup_prefix_whitelist=/$PARENT"
  else echo "${AGENT_FLAGS:-}"; fi
}
# The median of the numbers on stdin ("nan" when none).
median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# thread_cpu_ns PID PATTERN: CPU ns so far of PID's threads whose name matches the case PATTERN (schedstat).
thread_cpu_ns() {
  local t total=0
  for t in /proc/"$1"/task/*; do
    # shellcheck disable=SC2254 # PATTERN is a glob on purpose
    case "$(cat "$t/comm" 2>/dev/null)" in $2) total=$((total + $(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0))) ;; esac
  done
  echo "$total"
}
