#!/usr/bin/env bash
# Starts Podman's Docker-compatible API service for the tests (Debian's podman 4.3, rootful, cgroupfs
# manager, file events) on /run/podman/podman.sock and loads a one-binary busybox image as
# docker.io/local/busybox:1. Installs podman and busybox-static when missing. Records the service's PID
# in $STATE/podman-service.pid; stop it with podman-stop.sh. Containers need
# `--ulimit nofile=4096:4096 --ulimit nproc=4096:4096` here (root lacks CAP_SYS_RESOURCE).
# Usage: STATE=/tmp/x scripts/runtimes/podman-start.sh
set -euo pipefail
STATE=${STATE:-/tmp/node-metrics-podman}; mkdir -p "$STATE" /run/podman
HERE=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
if ! command -v podman >/dev/null || [ ! -x /bin/busybox ]; then
  for i in $(seq 1 30); do apt-get -o DPkg::Lock::Timeout=300 update -qq && break; sleep 5; done
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends podman busybox-static >/dev/null
fi
P="podman --cgroup-manager=cgroupfs --events-backend=file"
if ! $P image exists docker.io/local/busybox:1; then
  "$HERE/mk-oci-busybox.sh" "$STATE/busybox-oci.tar" docker.io/local/busybox:1
  $P load -q -i "$STATE/busybox-oci.tar" >/dev/null
fi
if ! curl -sf --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
  ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    exec setsid $P system service --time=0 unix:///run/podman/podman.sock >"$STATE/podman-service.log" 2>&1 </dev/null ) &
  echo $! >"$STATE/podman-service.pid"
  for i in $(seq 1 100); do curl -sf --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null && break; sleep 0.1; done
fi
echo "podman service ready (pid $(cat "$STATE/podman-service.pid" 2>/dev/null || echo external))"
