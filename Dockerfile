# node-metrics image: a Swift 6.3 builder on Debian bookworm, then a slim bookworm runtime holding the
# binary (Swift runtime linked statically) and the few shared libraries it needs.
#   docker build -t node-metrics .
# With a binary built elsewhere (what scripts/image-test.sh does offline): a BUILD_IMAGE that already
# holds /out/node-metrics skips the compile, and BASE_IMAGE picks the bookworm base:
#   docker build --network host --build-arg BUILD_IMAGE=<image with /out/node-metrics> \
#     --build-arg BASE_IMAGE=<bookworm image> -t node-metrics .
ARG BUILD_IMAGE=swift:6.3-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS builder
# The version and revision the VersionStamp plugin stamps (the build context has no .git):
#   docker build --build-arg NODE_METRICS_VERSION=$(git describe --tags) --build-arg NODE_METRICS_REVISION=$(git rev-parse HEAD) .
# Unset: "unknown".
ARG NODE_METRICS_VERSION=
ARG NODE_METRICS_REVISION=
# strip --strip-debug: debug information out, the symbol table kept (26 MB of the 113 MB binary), so
# crash reports name every function (a plain strip leaves only the exported ones).
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
RUN if [ -x /out/node-metrics ]; then echo "using the prebuilt /out/node-metrics"; exit 0; fi; \
    for try in 1 2 3 4 5; do apt-get update -q && break; sleep 5; done \
    && apt-get install -y -q --no-install-recommends libsystemd-dev libseccomp-dev zlib1g-dev librdkafka-dev libsnappy-dev \
    && rm -rf /var/lib/apt/lists/* \
    && swift build -c release --static-swift-stdlib --product node-metrics \
    && mkdir -p /out && cp .build/release/node-metrics /out/node-metrics \
    && strip --strip-debug /out/node-metrics

FROM ${BASE_IMAGE} AS runtime
# libsystemd0 and libseccomp2 as the agent links them; libstdc++6/zlib1g/libcrypt1 for the C++ and
# gzip parts and bcrypt passwords; curl for the health check.
RUN for try in 1 2 3 4 5; do apt-get update -q && break; sleep 5; done \
    && apt-get install -y -q --no-install-recommends libsystemd0 libseccomp2 libstdc++6 zlib1g libcrypt1 librdkafka1 libsnappy1v5 curl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/*
COPY --from=builder /out/node-metrics /usr/bin/node-metrics
# The agent's own crash handler writes the crash report (it replaces the Swift runtime's backtracer at
# start, which could not run in the seccomp sandbox); this keeps the runtime's out of the way before.
ENV SWIFT_BACKTRACE=enable=no
EXPOSE 8080
# /healthz over HTTP, or HTTPS when the agent runs with -tls_cert_file (/healthz needs no credentials).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD curl -fsS http://localhost:8080/healthz || curl -fsSk https://localhost:8080/healthz || exit 1
# The DaemonSet's defaults: the host root at /rootfs (its /proc and /sys), the runtime sockets under
# the host's /var/run, cAdvisor's kubelet-like housekeeping. Arguments given to the container follow.
ENTRYPOINT ["/usr/bin/node-metrics", "-root=/rootfs", "-port=8080", "-housekeeping_interval=10s", \
            "-max_housekeeping_interval=15s", "-docker=unix:///var/run/docker.sock", \
            "-containerd=unix:///var/run/containerd/containerd.sock", "-podman=unix:///var/run/podman/podman.sock", \
            "-crio=unix:///var/run/crio/crio.sock"]
CMD []
