#!/usr/bin/env bash
# libFuzzer on node-metrics: one target per parser of the C core (Fuzz/core/fuzz_core.c, clang with
# -fsanitize=fuzzer,address,undefined) and fuzz-router, arbitrary requests through the real APIRouter
# and ContainerManager (Fuzz/, Swift with -sanitize=fuzzer,address). Each target starts from a scratch
# copy of its committed corpus (Fuzz/corpus/<target>: the seeds of Fuzz/make-seeds.sh, regress-* inputs
# of crashes once found, and inputs merged from earlier runs; all replayed first)
# and runs for a bounded time. A crash, sanitizer report, timeout or out-of-memory fails the script,
# which names the saved input (.build-fuzz/artifacts/<target>/) and the command that replays it.
#
#   bash scripts/fuzz.sh                     CI: every target (C core FUZZ_SECONDS=8 each, router
#                                            FUZZ_ROUTER_SECONDS=60), build included
#   bash scripts/fuzz.sh --long              soak: 600 s per target (or FUZZ_SECONDS / FUZZ_ROUTER_SECONDS),
#                                            going on past crashes (libFuzzer -fork=1), all of them saved
#   bash scripts/fuzz.sh router pressure     only these targets
#   bash scripts/fuzz.sh --merge ...         afterwards, minimize Fuzz/corpus/<target> to its seeds plus
#                                            the fewest inputs covering every other edge reached by the
#                                            committed corpus and this run (commit the result)
#   bash scripts/fuzz.sh --build             build only
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
root=$(pwd)
out=$root/.build-fuzz
core_targets=(numbers single flat_keyed meminfo u64_list pressure line_text blkio io_stat proc_stat loadavg
              diskstats net_dev pid_stat pid_status auth cgroup grpc)
long=0 merge=0 build_only=0 selected=()
for arg in "$@"; do
  case "$arg" in
    --long) long=1 ;;
    --merge) merge=1 ;;
    --build) build_only=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    router|numbers|single|flat_keyed|meminfo|u64_list|pressure|line_text|blkio|io_stat|proc_stat|loadavg|diskstats|net_dev|pid_stat|pid_status|auth|cgroup|grpc)
      selected+=("$arg") ;;
    *) echo "fuzz: unknown argument $arg (targets: router ${core_targets[*]})" >&2; exit 2 ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${core_targets[@]}" router)
if [ "$long" = 1 ]; then
  core_seconds=${FUZZ_SECONDS:-600} router_seconds=${FUZZ_ROUTER_SECONDS:-600}
else
  core_seconds=${FUZZ_SECONDS:-8} router_seconds=${FUZZ_ROUTER_SECONDS:-60}
fi
wants() { local t; for t in "${selected[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

bash scripts/install-deps.sh >/dev/null
CC=${CC:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
mkdir -p "$out/core/obj" "$out/artifacts" "$out/logs"
start=$(date +%s)

# ---- build ------------------------------------------------------------------------------------
core_wanted=0
for t in "${core_targets[@]}"; do wants "$t" && core_wanted=1; done
if [ "$core_wanted" = 1 ]; then
  flags=(-std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
         -fsanitize=address,undefined -fno-sanitize-recover=undefined -ISources/CCgroupFast/include)
  objs=()
  for src in Sources/CCgroupFast/*.c; do
    obj=$out/core/obj/$(basename "$src" .c).o
    "$CC" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    objs+=("$obj")
  done
  for t in "${core_targets[@]}"; do
    wants "$t" || continue
    "$CC" "${flags[@]}" -fsanitize=fuzzer -DFUZZ_TARGET="$t" Fuzz/core/fuzz_core.c "${objs[@]}" \
      -fuse-ld=lld -lsystemd -lseccomp -lcrypt -lsnappy -lnghttp2 -o "$out/core/fuzz-$t"
  done
  echo "fuzz: C core targets built in $(( $(date +%s) - start )) s"
fi
if wants router; then
  t0=$(date +%s)
  # ld.gold's "Cannot export local symbol __asan_*" warnings are harmless (../shared/TOOLCHAIN.md).
  if ! (cd Fuzz && swift build -c release --scratch-path "$out/swift" --product fuzz-router \
          -Xswiftc -sanitize=fuzzer,address) > "$out/logs/build-router.log" 2>&1; then
    grep -v "Cannot export local symbol" "$out/logs/build-router.log" | tail -40 >&2
    echo "fuzz: fuzz-router did not build (log $out/logs/build-router.log)" >&2
    exit 1
  fi
  echo "fuzz: fuzz-router built in $(( $(date +%s) - t0 )) s"
fi
[ "$build_only" = 1 ] && exit 0

# ---- run --------------------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export NM_FUZZ_ROOT=$out/root NM_FUZZ_FIXTURES=${NM_FUZZ_FIXTURES-$root/Tests/NodeMetricsTests/Fixtures}
export FUZZ_SCRATCH=${FUZZ_SCRATCH:-$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp )}
failed=() summary=()
for t in "${selected[@]}"; do
  if [ "$t" = router ]; then
    bin=$out/swift/release/fuzz-router seconds=$router_seconds
    extra=(-dict=Fuzz/dict/router.dict -timeout=20 -detect_leaks=0 -max_len=4096)
  else
    bin=$out/core/fuzz-$t seconds=$core_seconds
    extra=(-timeout=5 -max_len=16384)
    [ "$t" = auth ] || [ "$t" = grpc ] || extra+=(-dict=Fuzz/dict/core.dict)
  fi
  # Soaks run in a forked child that is restarted after a crash: every distinct crash is collected.
  [ "$long" = 1 ] && extra+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  corpus=$out/run/$t
  rm -rf "$corpus" "$out/artifacts/$t" && mkdir -p "$corpus" "$out/artifacts/$t"
  cp Fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  log=$out/logs/$t.log
  set +e
  # Router: LeakSanitizer off (the Swift runtime's caches and the one manager live until exit), and
  # Swift's backtracer off so that libFuzzer reports the crash and saves the input.
  [ "$t" = router ] && env_run=(env ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" SWIFT_BACKTRACE=enable=no) || env_run=(env)
  "${env_run[@]}" "$bin" "${extra[@]}" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" \
    "$corpus" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$execs" ]; then # fork mode: the parent's last "#<execs>: cov: ..." line
    execs=$(grep -oE '^#[0-9]+:' "$log" | tail -1 | tr -d '#:')
    [ -n "$execs" ] && rate=$(( execs / seconds ))
  fi
  artifacts=$(ls "$out/artifacts/$t" | wc -l)
  [ "$artifacts" -gt 0 ] && [ "$rc" = 0 ] && rc=1
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  line=$(printf '%-11s %4s s  %10s execs  %7s exec/s  cov %-6s corpus %s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$(ls "$corpus" | wc -l)")
  if [ "$rc" != 0 ]; then
    artifact=$(ls -t "$out/artifacts/$t"/* 2>/dev/null | tail -1)
    echo "fuzz: $t FAILED (exit $rc, $artifacts inputs saved); log $log" >&2
    grep -E "ERROR: (AddressSanitizer|libFuzzer|UndefinedBehaviorSanitizer)|runtime error|Fatal error|SUMMARY" "$log" | head -5 >&2 || true
    grep -E "^ *#[0-9]+ " "$log" | head -12 >&2 || true
    if [ -n "$artifact" ]; then
      echo "fuzz: the (first) input is saved at $artifact; replay it with:" >&2
      echo "  ${env_run[@]:1} NM_FUZZ_ROOT=$NM_FUZZ_ROOT NM_FUZZ_FIXTURES=$NM_FUZZ_FIXTURES $bin $artifact" >&2
    fi
    failed+=("$t")
    line="$line  FAILED"
  elif [ "$merge" = 1 ]; then
    # The committed corpus becomes the seeds plus the fewest inputs (committed before or found now)
    # that cover every edge the seeds miss (hit counts ignored: the corpus stays a few hundred KB).
    merged=$out/merge/$t
    rm -rf "$merged" && mkdir -p "$merged"
    cp Fuzz/corpus/"$t"/seed-* Fuzz/corpus/"$t"/regress-* "$merged"/ 2>/dev/null || true
    "${env_run[@]}" "$bin" "${extra[@]}" -use_counters=0 -set_cover_merge=1 -artifact_prefix="$out/merge/$t-" "$merged" "$root/Fuzz/corpus/$t" "$corpus" \
      > "$out/logs/$t.merge.log" 2>&1
    find Fuzz/corpus/"$t" -type f ! -name 'seed-*' ! -name 'regress-*' -delete
    find "$merged" -type f ! -name 'seed-*' ! -name 'regress-*' -exec cp {} Fuzz/corpus/"$t"/ \;
    line="$line  merged: $(ls Fuzz/corpus/"$t" | wc -l) files"
  fi
  summary+=("$line")
  echo "fuzz: $line"
done
echo "fuzz: ${#selected[@]} targets in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs under $out/artifacts/)" >&2
  exit 1
fi
