# node-metrics image: a Swift 6.3 builder on Debian bookworm, then a runtime stage from scratch holding
# only the binary (Swift runtime linked statically) and the shared libraries ldd says it needs.
#   docker build -t node-metrics .
# With a binary built elsewhere (what scripts/image-test.sh does offline): a BUILD_IMAGE that already
# holds /out/node-metrics (and ldd, strip, the libraries) skips the compile:
#   docker build --build-arg BUILD_IMAGE=<image with /out/node-metrics> -t node-metrics .
ARG BUILD_IMAGE=swift:6.3-bookworm
ARG BASE_IMAGE=scratch

FROM ${BUILD_IMAGE} AS builder
# The version and revision the VersionStamp plugin stamps (the build context has no .git):
#   docker build --build-arg NODE_METRICS_VERSION=$(git describe --tags) --build-arg NODE_METRICS_REVISION=$(git rev-parse HEAD) .
# Unset: "unknown".
ARG NODE_METRICS_VERSION=
ARG NODE_METRICS_REVISION=
# The shipped binary is stripped whole (crash reports then name the exported functions and print the
# addr2line command for the unstripped binary of the same build). The libraries it needs are what
# scripts/runtime-libraries.sh lists (what ldd reports, the dynamic loader too, plus librdkafka and
# libcrypto, which the agent loads only when the kafka or bigquery driver starts), copied with their
# paths into /rootfs, which becomes the whole runtime image: no shell, no package manager, no curl. The CA bundle too:
# https to InfluxDB (-storage_driver_secure) and remote write without a CA file trust the system roots.
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY scripts/runtime-libraries.sh ./scripts/
RUN if [ -x /out/node-metrics ]; then echo "using the prebuilt /out/node-metrics"; exit 0; fi; \
    for try in 1 2 3 4 5; do apt-get update -q && break; sleep 5; done \
    && apt-get install -y -q --no-install-recommends libsystemd-dev libseccomp-dev zlib1g-dev librdkafka-dev libsnappy-dev libnghttp2-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/* \
    && swift build -c release --static-swift-stdlib --product node-metrics \
    && mkdir -p /out && cp .build/release/node-metrics /out/node-metrics
RUN if command -v strip >/dev/null; then strip /out/node-metrics; fi \
    && mkdir -p /rootfs/usr/bin && cp /out/node-metrics /rootfs/usr/bin/node-metrics \
    && bash scripts/runtime-libraries.sh /out/node-metrics Sources \
       | while read -r lib; do cp -L --parents "$lib" /rootfs/ && echo "runtime library: $lib"; done \
    && if [ -e /etc/ssl/certs/ca-certificates.crt ]; then cp -L --parents /etc/ssl/certs/ca-certificates.crt /rootfs/; fi

FROM ${BASE_IMAGE} AS runtime
COPY --from=builder /rootfs/ /
# The agent's own crash handler writes the crash report (it replaces the Swift runtime's backtracer at
# start, which could not run in the seccomp sandbox); this keeps the runtime's out of the way before.
ENV SWIFT_BACKTRACE=enable=no
EXPOSE 8080
# /healthz on the agent's own listener, its port, prefix and TLS read from the agent's command line.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD ["/usr/bin/node-metrics", "healthcheck"]
# The DaemonSet's defaults: the host root at /rootfs (its /proc and /sys), the runtime sockets under
# the host's /var/run, cAdvisor's kubelet-like housekeeping. Arguments given to the container follow.
ENTRYPOINT ["/usr/bin/node-metrics", "-root=/rootfs", "-port=8080", "-housekeeping_interval=10s", \
            "-max_housekeeping_interval=15s", "-docker=unix:///var/run/docker.sock", \
            "-containerd=unix:///var/run/containerd/containerd.sock", "-podman=unix:///var/run/podman/podman.sock", \
            "-crio=unix:///var/run/crio/crio.sock"]
CMD []
