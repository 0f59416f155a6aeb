#!/usr/bin/env bash
# node-metrics beside cAdvisor on the same real cgroups (issue 16): builds the shipped artifact (the
# static release binary, stripped as the image ships it), then for 200 and 2000 cgroups (made and
# removed by Benchmarks/cgroups.sh) runs each agent alone with the same flags (1 s housekeeping,
# 2 min of history, default metric kinds, loopback port) and prints, per agent: CPU (% of one core
# over WINDOW seconds after SETTLE seconds, no scrapes), RSS (VmRSS after the scrapes), /metrics
# median latency (wrk with one connection, or curl) and size; then node-metrics/cAdvisor ratios.
# cAdvisor runs when it is on PATH or named by $CADVISOR (building it is a manual step: v0.36.0 from
# its tag's vendored sources with Debian's golang-go); without it, node-metrics' figures are printed
# with ratios against cAdvisor v0.36's figures recorded in issue 16 (200 cgroups, labelled as such).
# Usage (root): Benchmarks/side-by-side.sh [N ...]      default: 200 2000
#   BIN=<binary> skips the build; SETTLE=75 WINDOW=60 SCRAPE_SECONDS=10 by default; NM_FLAGS adds
#   flags to node-metrics alone (e.g. NM_FLAGS=-map_code_on_touch=false).
set -euo pipefail
cd "$(dirname "$0")/.."
SETTLE=${SETTLE:-75}; WINDOW=${WINDOW:-60}; SCRAPE_SECONDS=${SCRAPE_SECONDS:-10}
CADVISOR=${CADVISOR:-$(command -v cadvisor || true)}
if [ -z "${BIN:-}" ]; then
  swift build -c release --static-swift-stdlib --product node-metrics >/dev/null
  BIN=.build/release/node-metrics.stripped
  cp .build/release/node-metrics "$BIN" && strip "$BIN"
fi
if [ $# -eq 0 ]; then set -- 200 2000; fi
if [ $# -gt 1 ]; then # one child per size: each makes and removes its own cgroups
  for n in "$@"; do BIN=$BIN bash "$0" "$n"; done
  exit 0
fi
N=$1
echo "side-by-side $(date -u +%Y-%m-%d): $N cgroups, $(nproc) cores; node-metrics $BIN ($(stat -c %s "$BIN") bytes," \
  "shared libraries: $(ldd "$BIN" 2>/dev/null | awk '$2 == "=>" {printf "%s ", $1}'))"
source Benchmarks/cgroups.sh
EXTRA_CLEANUP='[ -n "${agent:-}" ] && kill -9 "$agent" 2>/dev/null || true'
make_cgroups "$N"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
median_ms() { # URL: the median /metrics latency in ms
  if command -v wrk >/dev/null; then
    wrk -t1 -c1 -d"${SCRAPE_SECONDS}s" --latency "$1" | awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000} printf "%.2f", v}'
  else
    for _ in $(seq 1 100); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}'
  fi
}
# measure NAME COMMAND...: runs the agent, prints its row and sets CPU RSS LAT SIZE.
measure() {
  local name=$1; shift
  "$@" >/dev/null 2>&1 &
  agent=$!
  URL=http://127.0.0.1:$PORT
  wait_for_cgroups "$N"
  sleep "$SETTLE"
  local t0 t1 hz; hz=$(getconf CLK_TCK)
  t0=$(ticks "$agent"); sleep "$WINDOW"; t1=$(ticks "$agent")
  CPU=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v w="$WINDOW" 'BEGIN {printf "%.2f", 100 * d / hz / w}')
  SIZE=$(curl -s "$URL/metrics" | wc -c)
  for _ in $(seq 1 20); do curl -s -o /dev/null "$URL/metrics"; done
  LAT=$(median_ms "$URL/metrics")
  RSS=$(rss_mib "$agent")
  printf '  %-12s exported %5d  CPU %6s %% of a core  RSS %6s MiB  /metrics median %7s ms, %8d bytes\n' \
    "$name" "$seen" "$CPU" "$RSS" "$LAT" "$SIZE"
  # Where the resident set is: mapped from the binary itself, other files (libraries), anonymous.
  awk -v exe="$(readlink "/proc/$agent/exe")" '
    /^[0-9a-f]+-[0-9a-f]+ / {path = $6} /^Rss:/ {if (path == exe) bin += $2; else if (path ~ /^\//) lib += $2; else anon += $2}
    END {printf "  %-12s RSS: %.1f MiB mapped from the binary, %.1f MiB from libraries, %.1f MiB anonymous (heap, stacks)\n", "", bin/1024, lib/1024, anon/1024}
  ' "/proc/$agent/smaps"
  kill "$agent"; wait "$agent" 2>/dev/null || true; agent=
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else printf "n/a"}'; }

PORT=$((20000 + RANDOM % 30000))
FLAGS=(-listen_ip=127.0.0.1 -housekeeping_interval=1s -storage_duration=2m -allow_dynamic_housekeeping=true)
measure node-metrics "$BIN" -port=$PORT "${FLAGS[@]}" ${NM_FLAGS:-}
NM=("$CPU" "$RSS" "$LAT")
if [ -n "$CADVISOR" ]; then
  PORT=$((20000 + RANDOM % 30000))
  measure cadvisor "$CADVISOR" -port=$PORT "${FLAGS[@]}"
  echo "  node-metrics/cAdvisor, measured side by side: CPU $(ratio "${NM[0]}" "$CPU"), RSS $(ratio "${NM[1]}" "$RSS"), /metrics $(ratio "${NM[2]}" "$LAT")"
elif [ "$N" -ne 200 ]; then
  echo "  no cadvisor on PATH or \$CADVISOR, and no recorded cAdvisor figures at $N cgroups: node-metrics alone"
else
  # cAdvisor v0.36 on this machine at 200 cgroups, 1 s housekeeping (issue 16's one run).
  echo "  no cadvisor on PATH or \$CADVISOR: node-metrics against cAdvisor v0.36's figures recorded in issue 16" \
       "(200 cgroups: CPU 11.47 %, RSS 73.0 MiB, /metrics 26.7 ms):" \
       "CPU $(ratio "${NM[0]}" 11.47), RSS $(ratio "${NM[1]}" 73.0), /metrics $(ratio "${NM[2]}" 26.7)"
fi
