#!/usr/bin/env bash
# Writes the fuzzers' seed inputs into Fuzz/corpus/<target>/seed-* (committed): the C core's targets
# from the fixture trees (Tests/NodeMetricsTests/Fixtures: cgroup v1, v2 and hybrid files, /proc
# files), the router's from every endpoint of the README's REST API section and of the cAdvisor and
# kubelet specs (../shared/spec), with their parameters. Inputs found by fuzzing are merged in beside
# them by `scripts/fuzz.sh --merge`. Rerun after adding a fixture or an endpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f Fuzz/corpus/*/seed-*
fx=Tests/NodeMetricsTests/Fixtures
out=Fuzz/corpus
n=0
declare -A seen
seed() { # seed TARGET NAME < content (a content the target already has is skipped)
  mkdir -p "$out/$1"
  local tmp sum
  tmp=$(mktemp)
  cat > "$tmp"
  sum=$(md5sum < "$tmp" | cut -c1-32)
  if [ -n "${seen[$1/$sum]:-}" ]; then rm -f "$tmp"; return; fi
  seen[$1/$sum]=1
  mv "$tmp" "$out/$1/seed-$2"
  chmod 644 "$out/$1/seed-$2"
  n=$((n + 1))
}
slug() { echo "$1" | sed 's|^[^/]*/||; s|[/ ]|_|g'; }

# ---- C core: each fixture file to the parser of its kernel file ------------------------------
while IFS= read -r f; do
  base=$(basename "$f")
  s=$(slug "${f#"$fx"/}")
  case "$base" in
    memory.stat|cpu.stat|cpuacct.stat|memory.events|vmstat|memory.numa_stat|cpu.stat.local|hugetlb.*.events)
      seed flat_keyed "$s" < "$f" ;;
    meminfo) seed meminfo "$s" < "$f" ;;
    cpuacct.usage_percpu*|cpuacct.usage_all) seed u64_list "$s" < "$f" ;;
    *.pressure) seed pressure "$s" < "$f" ;;
    cpuset.*cpus*|cpuset.*mems*|cpu.max|cgroup.controllers) seed line_text "$s" < "$f" ;;
    blkio.*) seed blkio "$s" < "$f" ;;
    io.stat) seed io_stat "$s" < "$f" ;;
    stat) if [[ "$f" == */proc/stat ]]; then seed proc_stat "$s" < "$f"; else seed pid_stat "$s" < "$f"; fi ;;
    loadavg) seed loadavg "$s" < "$f" ;;
    diskstats) seed diskstats "$s" < "$f" ;;
    dev) seed net_dev "$s" < "$f" ;;
    status) seed pid_status "$s" < "$f" ;;
    *.json|*.md|mountinfo*) ;;
    *) # single-value files: usage, limits, counts ("max" included)
      if [ "$(wc -l < "$f")" -le 1 ] && [ "$(wc -c < "$f")" -le 40 ]; then seed single "$s" < "$f"; fi ;;
  esac
done < <(find "$fx" -type f | LC_ALL=C sort)

printf '18446744073709551615' | seed numbers u64-max
printf '18446744073709551616' | seed numbers u64-max-plus-1
printf -- '-9223372036854775808' | seed numbers i64-min
printf '1.04' | seed numbers fixed
printf '0.00 avg60' | seed numbers fixed-then-text
printf '\x00\x08\x00\x00\x00\x00\x00\x00' | seed numbers hugepage-2048
printf '\x00\x00\x10\x00\x00\x00\x00\x00' | seed numbers hugepage-1g
printf '\x10\x27\x00\x00\x00\x00\x00\x00' | seed numbers weight-10000

printf 'sha-pass\n{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=' | seed auth sha
printf 'apr1-pass\n$apr1$FUOpHdFT$Af9ngW6rDFlkjwuv.ygnx.' | seed auth apr1
printf 'md5-pass\n$1$saltsalt$qjXMvbEw8oaL.CzflDugX/' | seed auth md5crypt
printf 'x\n$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF1TUfR20' | seed auth sha256crypt
printf 'x\n$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1' | seed auth sha512crypt
printf 'x\n$2y$04$abcdefghijklmnopqrstuuAbcdefghijklmnopqrstuvwxyz01234' | seed auth bcrypt
printf 'x\n$apr1$' | seed auth apr1-empty-salt
printf 'plain\nplain' | seed auth plain

# The cgroup target: each fixture cgroup as one input, its files as "@@ <dir>/<file>" sections.
cgroup_seed() { # NAME DIR:SOURCE...
  local name=$1
  shift
  {
    for pair in "$@"; do
      local dir=${pair%%:*} src=${pair#*:}
      [ -d "$src" ] || continue
      while IFS= read -r f; do
        printf '@@ %s/%s\n' "$dir" "$(basename "$f")"
        cat "$f"
      done < <(find "$src" -maxdepth 1 -type f | LC_ALL=C sort)
    done
  } | seed cgroup "$name"
}
v1pairs() { # SUBPATH -> v1 controller dirs of that cgroup
  for c in cpu cpuacct cpuset memory blkio pids hugetlb; do echo "$c:$fx/v1/$c$1"; done
}
cgroup_seed v1-root $(v1pairs "")
cgroup_seed v1-docker-abc $(v1pairs /docker/abc)
cgroup_seed v1-bad $(v1pairs /bad)
cgroup_seed v1-flat $(v1pairs /flat)
cgroup_seed hybrid-docker-abc $(v1pairs /docker/abc) "unified:$fx/hybrid-unified/docker/abc"
cgroup_seed v2-root "unified:$fx/v2"
cgroup_seed v2-bad "unified:$fx/v2/bad"
while IFS= read -r d; do
  cgroup_seed "v2-$(slug "${d#"$fx"/v2/}")" "unified:$d"
done < <(find "$fx/v2" -mindepth 1 -type d ! -name bad | LC_ALL=C sort)

# ---- the router: every endpoint with its parameters -----------------------------------------
# A seed is "METHOD[ router]\nURI\nheaders...\n\nbody" (see Fuzz/Sources/FuzzRouter/FuzzRouter.swift).
request() { # NAME METHOD-LINE URI [BODY] [HEADER...]
  local name=$1 method=$2 uri=$3 body=${4:-}
  shift 3
  [ $# -gt 0 ] && shift
  { printf '%s\n%s\n' "$method" "$uri"; for h in "$@"; do printf '%s\n' "$h"; done; printf '\n%s' "$body"; } |
    seed router "$name"
}
request healthz GET /healthz
request root GET /
request validate GET /validate/
request validate-redirect GET /validate
request metrics GET /metrics
request metrics-filter GET '/metrics?type=docker&namespace=default,kube-system&selector=app%3Dweb%2Ctier!%3Dcache%2Cenv%20in%20(prod%2Cstaging)%2C!canary&max_age=1s'
request metrics-bad-count GET '/metrics?count=x'
request stats-summary GET /stats/summary
request stats-summary-post POST '/stats/summary?only_cpu_and_memory=true'
request metrics-resource GET /metrics/resource
request containers-page GET /containers/
request docker-page GET /docker/
request docker-page-one GET /docker/abcdef
request api GET /api/
request api-version GET /api/v1.3
for v in v1.0 v1.1 v1.2 v1.3; do
  request "$v-machine" GET "/api/$v/machine"
  request "$v-containers" GET "/api/$v/containers/" '{"num_stats":3,"start":"2020-01-01T00:00:00Z","end":"2030-01-01T00:00:00.5+02:00"}'
done
request v1.1-subcontainers GET /api/v1.1/subcontainers/ '{"num_stats":-1}'
request v1.3-subcontainers-docker GET /api/v1.3/subcontainers/docker '{"num_stats":1}'
request v1.2-docker GET /api/v1.2/docker/
request v1.3-docker-one GET /api/v1.3/docker/abcd
request v1.3-events GET '/api/v1.3/events/?all_events=true&subcontainers=true&max_events=10'
request v1.3-events-window GET '/api/v1.3/events/?creation_events=1&deletion_events=true&oom_events=true&oom_kill_events=true&start_time=2020-01-01T00:00:00Z&end_time=2030-01-01T00:00:00Z'
request v1.3-events-stream GET '/api/v1.3/events/?stream=true&all_events=true'
for v in v2.0 v2.1; do
  for t in version attributes machine; do request "$v-$t" GET "/api/$v/$t"; done
  request "$v-stats" GET "/api/$v/stats/?count=2&recursive=true"
  request "$v-stats-one" GET "/api/$v/stats/docker/abc?count=1"
  request "$v-summary" GET "/api/$v/summary/?recursive=true"
  request "$v-spec" GET "/api/$v/spec/?type=name&recursive=true"
  request "$v-storage" GET "/api/$v/storage"
  request "$v-events" GET "/api/$v/events/?all_events=true&max_events=-1"
  request "$v-ps" GET "/api/$v/ps/"
  request "$v-appmetrics" GET "/api/$v/appmetrics/"
done
request v2.0-storage-label GET '/api/v2.0/storage?label=root'
request v2.0-storage-uuid GET '/api/v2.0/storage?uuid=1b2c3d4e-0000-4000-8000-00000000f022'
request v2.0-stats-docker GET '/api/v2.0/stats/?type=docker&recursive=true'
request v2.0-summary-maxage GET '/api/v2.0/summary/?max_age=10ms'
request v2.0-ps-podman GET '/api/v2.0/ps/abcd?type=podman'
request v2.1-machinestats GET '/api/v2.1/machinestats?count=3&max_age=1h'
request v2.1-stats-maxage GET '/api/v2.1/stats/?count=-1&max_age=1ms'
# Authenticated routers: basic (prefix /nm, every endpoint protected) and digest (web pages).
request basic-ok 'GET basic' /nm/api/v2.0/version '' 'Authorization: Basic c2hhOnNoYS1wYXNz'
request basic-apr1 'GET basic' /nm/prom '' 'Authorization: Basic YXByOmFwcjEtcGFzcw=='
request basic-denied 'GET basic' /nm/containers/ '' 'Authorization: Basic c2hhOndyb25n'
request basic-healthz 'GET basic' /nm/healthz
request basic-summary 'POST basic' /nm/stats/summary '' 'Authorization: Basic c2hhOnNoYS1wYXNz'
request basic-root 'GET basic' /nm '' 'Authorization: Basic c2hhOnNoYS1wYXNz'
request digest-challenge 'GET digest' /containers/
request digest-response 'GET digest' /containers/ '' \
  'Authorization: Digest username="dig", realm="fuzz", nonce="65f0a000.0123456789abcdef0123456789abcdef", uri="/containers/", qop=auth, nc=00000001, cnonce="abc", response="0123456789abcdef0123456789abcdef", opaque="x"'
# ---- the gRPC client: what a runtime sends on the socket (HTTP/2 frames, literal HPACK fields) ----
hex() { printf %s "$1" | xxd -p | tr -d '\n'; }
h2() { printf '%06x%02x%02x%08x%s' "$(( ${#4} / 2 ))" "$1" "$2" "$3" "$4"; } # type flags stream payload-hex
field() { printf '00%02x%s%02x%s' "${#1}" "$(hex "$1")" "${#2}" "$(hex "$2")"; } # lengths < 127
grpc_seed() { printf %s "$2" | xxd -r -p | seed grpc "$1"; }
settings=$(h2 4 0 0 '')
ok_headers=$(field :status 200)$(field content-type application/grpc)
msg=$(h2 0 0 1 0000000004$(hex 0a027362))           # one message: ListPodSandboxResponse-like bytes
trailers=$(h2 1 5 1 "$(field grpc-status 0)")
grpc_seed ok "$settings$(h2 4 1 0 '')$(h2 1 4 1 "$ok_headers")$msg$trailers"
grpc_seed ok-split-data "$settings$(h2 1 4 1 "$ok_headers")$(h2 0 0 1 000000)$(h2 0 0 1 0004$(hex 0a027362))$trailers"
grpc_seed ok-continuation "$settings$(h2 1 0 1 "$(field :status 200)")$(h2 9 4 1 "$(field content-type application/grpc)")$msg$trailers"
grpc_seed ok-padded "$settings$(h2 1 12 1 "03$ok_headers""000000")$(h2 0 8 1 020000000004$(hex 0a027362)0000)$trailers"
grpc_seed trailers-only "$settings$(h2 1 5 1 "$ok_headers$(field grpc-status 5)$(field grpc-message 'no%20such%20container')")"
grpc_seed http-503 "$settings$(h2 1 5 1 "$(field :status 503)$(field content-type text/plain)")"
grpc_seed compressed "$settings$(h2 1 4 1 "$ok_headers")$(h2 0 0 1 0100000003616263)$trailers"
grpc_seed over-cap "$settings$(h2 1 4 1 "$ok_headers")$(h2 0 0 1 0000100000)$trailers"
grpc_seed no-status "$settings$(h2 1 4 1 "$ok_headers")$(h2 0 1 1 0000000000)"
grpc_seed rst-stream "$settings$(h2 1 4 1 "$ok_headers")$(h2 3 0 1 00000007)"
grpc_seed goaway "$settings$(h2 7 0 0 0000000000000000)"
grpc_seed ping-window "$settings$(h2 6 0 0 0102030405060708)$(h2 8 0 0 00010000)$(h2 8 0 1 00010000)$(h2 1 4 1 "$ok_headers")$msg$trailers"
grpc_seed informational "$settings$(h2 1 4 1 "$(field :status 100)")$(h2 1 4 1 "$ok_headers")$msg$trailers"
echo "make-seeds: $n seeds under $out"
