#!/usr/bin/env bash
# Regenerates the Swift code for the API subsets in Protos/: containerd's (Protos/containerd, committed
# under Sources/NodeMetrics/Runtimes/Containerd/Generated) and the Kubernetes CRI's (Protos/cri, under
# Sources/NodeMetrics/Runtimes/CRI/Generated). Slow the first time (it builds protoc-gen-swift
# and protoc-gen-grpc-swift-2 from the mirrored swift-protobuf 1.39.0 / grpc-swift-protobuf 2.4.1,
# ~10 min on 2 cores); the build is kept in .build-protoc/ for the next run.
# Usage: bash scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null && [ -f /usr/include/google/protobuf/any.proto ] \
  || apt-get install -y -qq --no-install-recommends protobuf-compiler libprotobuf-dev >/dev/null
SCRATCH=.build-protoc
if [ ! -d "$SCRATCH/grpc-swift-protobuf" ]; then
  mkdir -p "$SCRATCH"
  git clone -q --branch 2.4.1 https://github.com/grpc/grpc-swift-protobuf "$SCRATCH/grpc-swift-protobuf"
fi
(cd "$SCRATCH/grpc-swift-protobuf" && swift build --product protoc-gen-grpc-swift-2 >/dev/null \
  && swift build --product protoc-gen-swift >/dev/null)
BIN=$(cd "$SCRATCH/grpc-swift-protobuf" && swift build --show-bin-path)
generate() { # proto dir, output dir
  local out=$2
  rm -rf "$out" && mkdir -p "$out"
  protoc -I "$1" -I /usr/include \
    --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" --swift_out="$out" --swift_opt=Visibility=Internal \
    --plugin=protoc-gen-grpc-swift="$BIN/protoc-gen-grpc-swift-2" --grpc-swift_out="$out" \
    --grpc-swift_opt=Visibility=Internal,Server=false,Client=true \
    "$1"/*.proto
  ls "$out"
}
generate Protos/containerd Sources/NodeMetrics/Runtimes/Containerd/Generated
generate Protos/cri Sources/NodeMetrics/Runtimes/CRI/Generated
