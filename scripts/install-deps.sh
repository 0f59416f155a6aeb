#!/usr/bin/env bash
# Installs what node-metrics needs on Debian 12: to build, libsystemd-dev, libseccomp-dev and
# zlib1g-dev (gzip responses), librdkafka-dev (Kafka driver), libsnappy-dev (remote write),
# libnghttp2-dev (the runtimes' gRPC client) and libssl-dev (BigQuery's RS256 JWT); with --test also what the tests run (prometheus for promtool and a
# real Prometheus server, apache2-utils for htpasswd/htdigest, the real runtimes docker.io,
# containerd, runc and podman with busybox-static for their test image, python3-prometheus-client
# to parse /metrics/resource as metrics-server does, debootstrap, binutils and curl for the image
# test, qemu-system-x86 for the cgroup v2 guest of scripts/vm-test.sh, chromium for the web page
# tests, influxdb and redis-server with redis-tools for the storage driver tests, victoria-metrics
# as a remote-write receiver); with --bench also wrk.
# The Swift 6.3 toolchain (with clang) is expected at /opt/swift or on PATH.
set -euo pipefail
packages=(libsystemd-dev libseccomp-dev zlib1g-dev librdkafka-dev libsnappy-dev libnghttp2-dev libssl-dev)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(prometheus apache2-utils docker.io containerd runc podman busybox-static python3-prometheus-client debootstrap binutils curl qemu-system-x86 chromium influxdb redis-server redis-tools victoria-metrics) ;;
    --bench) packages+=(wrk) ;;
    *) echo "install-deps: unknown option $arg (use --test, --bench)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: ${packages[*]} already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3 4 5 6; do
  if apt-get update -q -o DPkg::Lock::Timeout=120; then break; fi
  echo "install-deps: apt-get update failed (attempt $attempt), retrying" >&2
  sleep $((attempt * 5))
  [ "$attempt" -eq 6 ] && exit 1
done
apt-get install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}"
