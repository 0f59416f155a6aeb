#!/usr/bin/env bash
# The collector benchmark matrix of the README: 200 and 2000 cgroups at 1s and 10s housekeeping,
# 3 minutes each, with the statically linked release binary (what the container image ships).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --scratch-path .build-static >/dev/null
export BIN=.build-static/release/node-metrics
for run in "200 1s" "200 10s" "2000 10s" "2000 1s"; do
  bash Benchmarks/manager-bench.sh $run 180
done
