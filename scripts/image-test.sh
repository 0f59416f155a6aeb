#!/usr/bin/env bash
# Proves the Dockerfile's runtime stage offline: a Debian bookworm minbase rootfs made by debootstrap
# and imported as local/debian:bookworm-minbase, the release binary (built here when missing) added to
# it as the builder image (whose compile step then stands aside; scripts/runtime-libraries.sh picks
# the libraries the scratch runtime stage gets), the image checked to hold no shell, then run
# under a real dockerd with the host's / (as /rootfs), /sys and /var/run mounted read-only as the
# DaemonSet mounts them and its capabilities, on its own network with the image's port 8080
# published on a random loopback port; /healthz and /metrics are curled from outside (the host's
# machine and root-cgroup figures, the agent's own container named through docker.sock) and the
# image's HEALTHCHECK (`node-metrics healthcheck`) must report healthy; a second container with
# -storage_driver=kafka must start and serve (librdkafka, loaded only then, is in the image); that one
# runs without the runtime's seccomp profile and, on Linux 6.7+, must map its code page by page
# (-map_code_on_touch; dockerd's default profile refuses userfaultfd, which the first one prints).
# Cleans up the container, network and daemon it started.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${STATE:-/tmp/node-metrics-image}; mkdir -p "$STATE"
BIN=${BIN:-.build/release/node-metrics}
[ -x "$BIN" ] || swift build -c release --static-swift-stdlib --product node-metrics
# Foundation (and with it ICU's 35 MB data table) stays out of the binary: a single call that resolves
# to Foundation's String methods (`contains("x")` on a String does) pulls it in. Name the objects.
if [ "$(nm "$BIN" 2>/dev/null | grep -c ' \$s10Foundation')" != 0 ]; then # -c: grep reads it all (pipefail)
  echo "image-test: $BIN links Foundation; objects that refer to it (use includes(_:) from Host/Text.swift):" >&2
  for o in "$(dirname "$BIN")"/NodeMetrics.build/*.o "$(dirname "$BIN")"/node_metrics.build/*.o; do
    nm -u "$o" 2>/dev/null | grep -q '\$s10Foundation\|10FoundationE' && echo "  $o" >&2
  done
  exit 1
fi
STATE="$STATE/docker" bash scripts/runtimes/docker-start.sh
NAME=nm-image-test-$$
cleanup() {
  docker rm -f "$NAME" "$NAME-kafka" >/dev/null 2>&1 || true; docker network rm "$NAME" >/dev/null 2>&1 || true
  STATE="$STATE/docker" bash scripts/runtimes/docker-stop.sh
}
trap cleanup EXIT
if ! docker image inspect local/debian:bookworm-minbase >/dev/null 2>&1; then
  ROOTFS=$PWD/.build-image/rootfs
  for try in 1 2 3; do # the mirror may be briefly unreachable
    [ -x "$ROOTFS/bin/sh" ] && break
    rm -rf "$ROOTFS"; mkdir -p "$ROOTFS"; debootstrap --variant=minbase bookworm "$ROOTFS" >/dev/null || sleep 10
  done
  [ -x "$ROOTFS/bin/sh" ] || { echo "image-test: debootstrap failed three times" >&2; exit 1; }
  tar -C "$ROOTFS" -c . | docker import - local/debian:bookworm-minbase >/dev/null
fi
rm -rf "$STATE/binary" && mkdir -p "$STATE/binary"
cp "$BIN" "$STATE/binary/node-metrics" && strip "$STATE/binary/node-metrics"
# The shared libraries the binary needs (libsnappy, librdkafka loaded on first use, ...: not in a
# minbase root) go into the builder image at their paths, where the Dockerfile finds them again.
mkdir -p "$STATE/binary/libs"
scripts/runtime-libraries.sh "$BIN" | while read -r lib; do
  case "$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null)" in
    libc6:*) ;; # the image's own C library and loader stay a matching pair
    *) # under usr/: the image's /lib is a link to usr/lib, which a copied lib/ directory would replace
       dest="$STATE/binary/libs/usr/${lib#/usr/}"; mkdir -p "$(dirname "$dest")"; cp -L "$lib" "$dest" ;;
  esac
done
# The system's CA bundle, as the Swift builder image has it (the runtime stage takes it along).
[ -e /etc/ssl/certs/ca-certificates.crt ] && mkdir -p "$STATE/binary/libs/etc/ssl/certs" \
  && cp -L /etc/ssl/certs/ca-certificates.crt "$STATE/binary/libs/etc/ssl/certs/"
printf 'FROM local/debian:bookworm-minbase\nCOPY libs/ /\nCOPY node-metrics /out/node-metrics\n' > "$STATE/binary/Dockerfile"
docker build -q -t local/node-metrics-prebuilt:test "$STATE/binary" >/dev/null
docker build -q --build-arg BUILD_IMAGE=local/node-metrics-prebuilt:test -t local/node-metrics:test . >/dev/null
echo "image local/node-metrics:test $(docker image inspect -f '{{.Size}}' local/node-metrics:test) bytes," \
  "$(docker save local/node-metrics:test | gzip | wc -c) gzipped, binary $(stat -c %s "$STATE/binary/node-metrics") bytes"
cid=$(docker create local/node-metrics:test)
docker cp "$cid:/etc/ssl/certs/ca-certificates.crt" - >/dev/null 2>&1 || { docker rm "$cid" >/dev/null; echo "image-test: no CA bundle in the image" >&2; exit 1; }
docker rm "$cid" >/dev/null
if docker run --rm --entrypoint /bin/sh local/node-metrics:test -c true >/dev/null 2>&1; then
  echo "image-test: the image has a shell" >&2; exit 1
fi
PORT=$((20000 + RANDOM % 30000))
# The test daemon has no default bridge; a network of its own carries the published port.
docker network create "$NAME" >/dev/null
docker run -d --name "$NAME" --network "$NAME" -p "127.0.0.1:$PORT:8080" --read-only --cap-drop ALL \
  --cap-add SYS_PTRACE --cap-add DAC_READ_SEARCH --cap-add SYSLOG --security-opt no-new-privileges \
  --health-interval 2s -v /:/rootfs:ro -v /sys:/sys:ro -v /var/run:/var/run:ro \
  local/node-metrics:test >/dev/null
ok=
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && ok=1 && break; sleep 0.2; done
[ -n "$ok" ] || { docker logs "$NAME"; echo "image-test: /healthz never answered" >&2; exit 1; }
# The first samples come within a housekeeping interval (10 s in the image) of start-up; on a loaded
# machine later than a fixed wait: up to 60 s for the root's CPU and the agent's own container.
# (grep reads here-strings, not `echo | grep -q`: grep -q stops reading at the first match and, with
# pipefail, echo's SIGPIPE on a large exposition would fail the check.)
for _ in $(seq 1 60); do
  metrics=$(curl -sf "http://127.0.0.1:$PORT/metrics" || true)
  grep -q '^container_cpu_usage_seconds_total{.*id="/"' <<< "$metrics" \
    && grep -q "^container_memory_usage_bytes{.*name=\"$NAME\"" <<< "$metrics" && break
  sleep 1
done
grep -q '^container_cpu_usage_seconds_total{.*id="/"' <<< "$metrics" || { echo "image-test: no root CPU in /metrics" >&2; exit 1; }
grep -q '^machine_memory_bytes' <<< "$metrics" || { echo "image-test: no machine metrics" >&2; exit 1; }
grep -q "^container_memory_usage_bytes{.*name=\"$NAME\"" <<< "$metrics" \
  || { echo "image-test: the agent's own container is not named in /metrics (docker.sock)" >&2; exit 1; }
for _ in $(seq 1 30); do [ "$(docker inspect -f '{{.State.Health.Status}}' "$NAME")" = healthy ] && break; sleep 1; done
health=$(docker inspect -f '{{.State.Health.Status}}' "$NAME")
[ "$health" = healthy ] || { echo "image-test: HEALTHCHECK says $health" >&2; exit 1; }
echo "image-test: /healthz ok, /metrics $(echo "$metrics" | wc -l) lines, HEALTHCHECK $health, $(grep Seccomp: "/proc/$(docker inspect -f '{{.State.Pid}}' "$NAME")/status" | tr -d '\t')"
# -map_code_on_touch needs userfaultfd, which dockerd's default seccomp profile refuses: say so.
echo "image-test: default seccomp profile: $(docker logs "$NAME" 2>&1 | grep -o 'msg="code mapped.*' | head -1)"
# The Kafka driver loads librdkafka at start-up only when asked: without it in the image this
# container would stop with "cannot load librdkafka.so.1". No broker is needed for the producer to start.
# This one runs without the runtime's seccomp profile (the chart's securityContext.seccompProfile
# Unconfined): on Linux 6.7+ its code must then be mapped page by page, every capability dropped.
KPORT=$((20000 + RANDOM % 30000))
docker run -d --name "$NAME-kafka" --network "$NAME" -p "127.0.0.1:$KPORT:8080" --read-only --cap-drop ALL \
  --security-opt seccomp=unconfined -v /:/rootfs:ro -v /sys:/sys:ro \
  local/node-metrics:test -storage_driver=kafka -storage_driver_kafka_broker_list=127.0.0.1:9 >/dev/null
ok=
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$KPORT/healthz" >/dev/null && ok=1 && break; sleep 0.2; done
[ -n "$ok" ] || { docker logs "$NAME-kafka"; echo "image-test: the agent with the kafka driver did not start" >&2; exit 1; }
echo "image-test: with -storage_driver=kafka (librdkafka loaded on first use) /healthz ok"
mapped=$(docker logs "$NAME-kafka" 2>&1 | grep -o 'msg="code mapped.*' | head -1 || true)
echo "image-test: seccomp unconfined: $mapped"
IFS=. read -r major minor _ <<< "$(uname -r)"
if [ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "${minor%%[!0-9]*}" -ge 7 ]; }; then
  [[ "$mapped" == *"page by page"* ]] || { echo "image-test: Linux $(uname -r) without the runtime's seccomp profile should map the code page by page" >&2; exit 1; }
fi
