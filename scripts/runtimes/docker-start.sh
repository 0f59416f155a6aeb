#!/usr/bin/env bash
# Starts a real dockerd for the tests (Debian's docker.io, cgroupfs driver, no bridge or iptables)
# and imports a one-binary busybox image as local/busybox:1 (no registry is reachable). Installs
# docker.io and busybox-static when missing. Records the daemon's PID in $STATE/dockerd.pid.
# Stop it with docker-stop.sh. DOCKERD_ARGS adds daemon flags (a TLS TCP listener, say).
# Usage: STATE=/tmp/x [DOCKERD_ARGS="..."] scripts/runtimes/docker-start.sh
set -euo pipefail
STATE=${STATE:-/tmp/node-metrics-docker}; mkdir -p "$STATE"
export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null || [ ! -x /bin/busybox ]; then
  for i in $(seq 1 30); do apt-get -o DPkg::Lock::Timeout=300 update -qq && break; sleep 5; done
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends docker.io busybox-static >/dev/null
fi
if ! curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
  # Package installs do not start daemons here (no systemd): start it by hand.
  # Close every inherited descriptor above 2 first: a caller waiting on a pipe (or a process monitor)
  # must not be held open by the daemon.
  ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
    exec setsid /usr/sbin/dockerd --iptables=false --ip6tables=false --bridge=none --exec-opt native.cgroupdriver=cgroupfs \
      -H unix:///var/run/docker.sock ${DOCKERD_ARGS:-} >"$STATE/dockerd.log" 2>&1 </dev/null ) &
  echo $! >"$STATE/dockerd.pid"
  for i in $(seq 1 300); do curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null && break; sleep 0.1; done
fi
if ! /usr/bin/docker image inspect local/busybox:1 >/dev/null 2>&1; then
  R=$(mktemp -d); mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp"
  cp /bin/busybox "$R/bin/busybox"; for a in sh sleep ls cat ps env; do ln -s busybox "$R/bin/$a"; done
  tar -C "$R" -c . | /usr/bin/docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - local/busybox:1 >/dev/null
  rm -rf "$R"
fi
echo "dockerd ready (pid $(cat "$STATE/dockerd.pid" 2>/dev/null || echo external))"
