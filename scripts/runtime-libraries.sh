#!/usr/bin/env bash
# The shared libraries node-metrics needs at run time, one absolute path per line: what ldd says the
# binary links (the dynamic loader included), plus the libraries the C core loads only when a flag
# asks for them (each DL_LIBRARY in Sources/CCgroupFast: librdkafka for -storage_driver=kafka,
# libcrypto for bigquery), looked up in the directories of the binary's own libraries, and what
# those link. The Dockerfile's runtime stage and scripts/image-test.sh copy exactly these.
# Usage: scripts/runtime-libraries.sh BINARY [SOURCES_DIR]     (SOURCES_DIR: the package's Sources)
set -euo pipefail
bin=$1
src=${2:-$(dirname "$0")/../Sources}
paths() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; }
linked=$(paths "$bin")
{
  echo "$linked"
  for so in $(grep -ho 'DL_LIBRARY([a-z_]*, "[^"]*"' "$src"/CCgroupFast/*.c | sed 's/.*"\(.*\)"/\1/'); do
    lib=
    for dir in $(echo "$linked" | xargs -n1 dirname | sort -u) /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu; do
      if [ -e "$dir/$so" ]; then lib=$dir/$so; break; fi
    done
    [ -n "$lib" ] || { echo "runtime-libraries: $so (loaded on first use) is not installed" >&2; exit 1; }
    echo "$lib"
    paths "$lib"
  done
} | sort -u
