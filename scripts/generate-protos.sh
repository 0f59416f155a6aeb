#!/usr/bin/env bash
# Regenerates the Swift code for the containerd API subset in Protos/containerd (committed under
# Sources/NodeMetrics/Runtimes/Containerd/Generated). Slow the first time (it builds protoc-gen-swift
# and protoc-gen-grpc-swift-2 from the mirrored swift-protobuf 1.39.0 / grpc-swift-protobuf 2.4.1,
# ~10 min on 2 cores); the build is kept in .build-protoc/ for the next run.
# Usage: bash scripts/generate-protos.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || apt-get install -y -qq --no-install-recommends protobuf-compiler >/dev/null
SCRATCH=.build-protoc
if [ ! -d "$SCRATCH/grpc-swift-protobuf" ]; then
  mkdir -p "$SCRATCH"
  git clone -q --branch 2.4.1 https://github.com/grpc/grpc-swift-protobuf "$SCRATCH/grpc-swift-protobuf"
fi
(cd "$SCRATCH/grpc-swift-protobuf" && swift build --product protoc-gen-grpc-swift-2 >/dev/null \
  && swift build --product protoc-gen-swift >/dev/null)
BIN=$(cd "$SCRATCH/grpc-swift-protobuf" && swift build --show-bin-path)
OUT=Sources/NodeMetrics/Runtimes/Containerd/Generated
rm -rf "$OUT" && mkdir -p "$OUT"
protoc -I Protos/containerd -I /usr/include \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" --swift_out="$OUT" --swift_opt=Visibility=Internal \
  --plugin=protoc-gen-grpc-swift="$BIN/protoc-gen-grpc-swift-2" --grpc-swift_out="$OUT" \
  --grpc-swift_opt=Visibility=Internal,Server=false,Client=true \
  Protos/containerd/*.proto
ls "$OUT"
