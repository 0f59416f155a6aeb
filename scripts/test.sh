#!/usr/bin/env bash
# The whole test run: dependencies, build, the C core under ASan+UBSan, the fuzz targets (every C
# core parser and the API router under libFuzzer, each for a bounded time), then every Swift test
# (fixture trees, live cgroups on this host, the sample command), the Helm chart and manifests
# validated (helm lint, kubernetes-validate, yamllint, manifests in sync), then the container image
# built from the Dockerfile with the release binary and run under a real dockerd, and last the live
# suites again on a pure cgroup v2 host with systemd as PID 1, in a VM (scripts/vm-test.sh). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps.sh --test
# The cgroup v2 guest image (once per machine, minutes when missing) is built while the rest runs.
mkdir -p .build-vm
setsid bash scripts/vm/build-guest.sh > .build-vm/build-guest.log 2>&1 &
guest_build=$!
trap 'kill -- -"$guest_build" 2>/dev/null || true' EXIT   # a failed step leaves no debootstrap behind
swift build --build-tests
bash scripts/sanitize-core.sh "${SANITIZE_MUTATIONS:-1000}"
bash scripts/fuzz.sh
bash scripts/validate-k8s.sh
swift test --skip-build
swift build -c release --static-swift-stdlib --product node-metrics
bash scripts/image-test.sh
wait "$guest_build" || { echo "test: the guest image build failed:" >&2; cat .build-vm/build-guest.log >&2; exit 1; }
cat .build-vm/build-guest.log
bash scripts/vm-test.sh
