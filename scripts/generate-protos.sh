#!/usr/bin/env bash
# Regenerates the Swift code for the API subsets in Protos/: containerd's (Protos/containerd, committed
# under Sources/NodeMetrics/Runtimes/Containerd/Generated) and the Kubernetes CRI's (Protos/cri, under
# Sources/NodeMetrics/Runtimes/CRI/Generated). Messages only: the calls go through UnixGRPC (no
# generated service stubs). Slow the first time (it builds protoc-gen-swift from swift-protobuf
# 1.39.0, a few minutes on 2 cores); the build is kept in .build-protoc/ for the next run.
# Usage: bash scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null && [ -f /usr/include/google/protobuf/any.proto ] \
  || apt-get install -y -qq --no-install-recommends protobuf-compiler libprotobuf-dev >/dev/null
SCRATCH=.build-protoc
if [ ! -d "$SCRATCH/swift-protobuf" ]; then
  mkdir -p "$SCRATCH"
  git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$SCRATCH/swift-protobuf"
fi
(cd "$SCRATCH/swift-protobuf" && swift build --product protoc-gen-swift >/dev/null)
BIN=$(cd "$SCRATCH/swift-protobuf" && swift build --show-bin-path)
generate() { # proto dir, output dir
  local out=$2
  rm -rf "$out" && mkdir -p "$out"
  protoc -I "$1" -I /usr/include \
    --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" --swift_out="$out" --swift_opt=Visibility=Internal \
    "$1"/*.proto
  ls "$out"
}
generate Protos/containerd Sources/NodeMetrics/Runtimes/Containerd/Generated
generate Protos/cri Sources/NodeMetrics/Runtimes/CRI/Generated
