#!/usr/bin/env bash
# Stops the Podman API service that podman-start.sh started, after removing every container.
STATE=${STATE:-/tmp/node-metrics-podman}
[ -f "$STATE/podman-service.pid" ] || exit 0
P="podman --cgroup-manager=cgroupfs --events-backend=file"
$P ps -aq 2>/dev/null | xargs -r $P rm -f -t 0 >/dev/null 2>&1 || true
S=$(cat "$STATE/podman-service.pid"); kill "$S" 2>/dev/null || true
for i in $(seq 1 100); do kill -0 "$S" 2>/dev/null || break; sleep 0.1; done
kill -9 "$S" 2>/dev/null || true
rm -f "$STATE/podman-service.pid"
# Podman's cgroup parents (cgroupfs manager), in every hierarchy; rmdir removes only empty ones.
for h in /sys/fs/cgroup/*/; do rmdir "$h"libpod_parent/conmon "$h"libpod_parent 2>/dev/null; done
exit 0
