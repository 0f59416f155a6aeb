#!/usr/bin/env bash
# Builds the C core and Tests/CoreSanitizer/core_check.c with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (-Wall -Wextra -Werror, no recovery) and runs it on the fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
out=.build-sanitize
mkdir -p "$out"
"$CC" -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
  -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
  -ISources/CCgroupFast/include Sources/CCgroupFast/*.c Tests/CoreSanitizer/core_check.c \
  -fuse-ld=lld -lsystemd -lseccomp -lcrypt -lsnappy -lnghttp2 -lcrypto -o "$out/core_check"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$out/core_check" Tests/NodeMetricsTests/Fixtures "${1:-200}"
