#!/bin/bash
# Runs in the cgroup v2 guest (as /mnt/host/run.sh, started by guest-init.sh under systemd): checks
# that the guest is what the tests need, then runs the live Swift suites from the host's test build
# (the project and the Swift runtime are mounted read-only at their host paths). Arguments come in
# /mnt/host/env: PROJECT (the project root), FILTER (the suites, a regular expression), SLOWDOWN.
set -u
. /mnt/host/env
echo "guest: $(uname -r), $(systemctl --version | head -1), PID 1 = $(cat /proc/1/comm)"
echo "guest: cgroup mounts: $(grep cgroup /proc/self/mountinfo | awk '{print $5, $9}' | tr '\n' ' ')"
echo "guest: root controllers: $(cat /sys/fs/cgroup/cgroup.controllers); system.slice: $(cat /sys/fs/cgroup/system.slice/cgroup.subtree_control)"
fail=0
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "guest: /sys/fs/cgroup is not cgroup2"; fail=1; }
[ "$(cat /proc/1/comm)" = systemd ] || { echo "guest: PID 1 is not systemd"; fail=1; }
[ -x "$PROJECT/.build/debug/node-metricsPackageTests.xctest" ] || { echo "guest: no test build at $PROJECT/.build/debug"; fail=1; }
[ $fail -eq 0 ] || exit 1
systemctl is-system-running --wait >/dev/null 2>&1   # "degraded" is fine: no network units
# The guest has no NIC (no network for the tests): a dummy interface gives the host's network
# namespace an interface with counters, as every node has.
ip link add nm0 type dummy && ip addr add 192.0.2.10/24 dev nm0 && ip link set nm0 up
# A crash prints its backtrace (the Swift runtime's backtracer comes with the mounted toolchain).
export SWIFT_BACKTRACE=enable=yes,interactive=no,sanitize=no
cd /tmp
export NODE_METRICS_TEST_SLOWDOWN="$SLOWDOWN"
# FILTER: groups of suites separated by ";", run one group after another and one test at a time
# (the emulated guest is slow: tests in parallel starve the in-process managers of each other).
rc=0
IFS=';' read -ra groups <<< "$FILTER"
for group in "${groups[@]}"; do
  T0=$(date +%s)
  "$PROJECT/.build/debug/node-metricsPackageTests.xctest" --testing-library swift-testing --no-parallel --filter "$group" 2>&1 \
    | sed -u -e 's/\x1b\[[0-9;]*m//g'
  status=${PIPESTATUS[0]}
  echo "guest: $group finished with status $status after $(( $(date +%s) - T0 )) s (guest clock)"
  [ "$status" -eq 0 ] || rc=1
done
# Nothing of the tests may be left behind.
left=$(find /sys/fs/cgroup -maxdepth 1 -name 'node-metrics-test' -o -maxdepth 1 -name 'nmburst*')
[ -z "$left" ] || { echo "guest: cgroups left behind: $left"; rc=1; }
exit $rc
