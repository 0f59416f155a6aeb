#!/usr/bin/env bash
# Stops the dockerd that docker-start.sh started (its containers first, its cgroup parent after).
STATE=${STATE:-/tmp/node-metrics-docker}
[ -f "$STATE/dockerd.pid" ] || exit 0
/usr/bin/docker ps -aq 2>/dev/null | xargs -r /usr/bin/docker rm -f >/dev/null 2>&1 || true
P=$(cat "$STATE/dockerd.pid"); kill "$P" 2>/dev/null || true   # dockerd also stops the containerd it spawned
for i in $(seq 1 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
kill -9 "$P" 2>/dev/null || true
rm -f "$STATE/dockerd.pid"
# The cgroup parent dockerd made for its containers (empty now: rmdir refuses otherwise).
for d in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
true
