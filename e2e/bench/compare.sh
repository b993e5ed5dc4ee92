#!/usr/bin/env bash
# Benchmarks a 5-member raftkv cluster and a 5-member etcd 3.4 cluster on this machine, one after
# the other, with the same Raft settings and the same loads (bin/raftkv-bench), and prints a
# side-by-side table with ratios plus resident memory (RSS) per member. Every process it starts
# is stopped and every data dir removed when it ends, also on failure or Ctrl-C.
#
# Usage: e2e/bench/compare.sh [--quick] [--only raftkv|etcd] [--interleave] [--out FILE]
#   --quick       shorter loads (smoke test of the script itself; the numbers are noisy)
#   --only S      run one system only (its column alone)
#   --interleave  run both clusters at once (idle one beside the measured one) and alternate
#                 the systems load by load, so that both see the same background load on a
#                 shared machine; the default runs one cluster after the other
#   --out F       also write the table (markdown) to F
# Environment: NODES (5), HEARTBEAT_MS (100), ELECTION_MS (1000), SNAPSHOT_COUNT (100000),
#   PORT_BASE (24790), DURATION (10s per load), WARMUP (20s unmeasured before each load: the
#   load tool is a fresh JVM per load, and on two shared cores its first ~15 s run at half speed
#   while its JIT compiles gRPC and Netty; a shorter warm-up measures the tool, not the servers),
#   PREPARE (60s of unmeasured puts per cluster before the first load), RAFTKV_JAVA_OPTS (JVM options for raftkv members;
#   default: bin/raftkv's), WATCH_RATE (puts/s fed to the watchers, 50).
set -euo pipefail

self="${BASH_SOURCE[0]}"
ROOT="$(cd "$(dirname "$(readlink -f "$self")")/../.." && pwd)"
BENCH="$ROOT/bin/raftkv-bench"
NODES="${NODES:-5}"
HEARTBEAT_MS="${HEARTBEAT_MS:-100}"
ELECTION_MS="${ELECTION_MS:-1000}"
SNAPSHOT_COUNT="${SNAPSHOT_COUNT:-100000}"
PORT_BASE="${PORT_BASE:-24790}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-20s}"
PREPARE="${PREPARE:-60s}"
WATCH_RATE="${WATCH_RATE:-50}"
LOAD_TIMEOUT_S=180
systems=(raftkv etcd)
out_file=""
interleave=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) DURATION=3s; WARMUP=1s; PREPARE=5s; shift ;;
    --only) systems=("$2"); shift 2 ;;
    --out) out_file="$2"; shift 2 ;;
    --interleave) interleave=1; shift ;;
    -h|--help) sed -n '2,17p' "$self"; exit 0 ;;
    *) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

command -v etcd >/dev/null || { echo "compare.sh: etcd is not installed (apt-get install etcd-server)" >&2; exit 1; }
[[ -f "$ROOT/node/server/target/quarkus-app/quarkus-run.jar" ]] || {
  echo "compare.sh: build the node first: mvn -B -q -pl node/server -am package -DskipTests" >&2; exit 1; }

WORK="$(mktemp -d /tmp/raftkv-compare.XXXXXX)"
RESULTS="$WORK/results"
: >"$RESULTS"
pids=()
declare -A member_pids

stop_cluster() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
  member_pids=()
}

cleanup() {
  stop_cluster
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_base() { # $1 = raftkv|etcd; the two clusters never share ports
  if [[ "$1" == raftkv ]]; then echo "$PORT_BASE"; else echo $((PORT_BASE + 100)); fi
}

endpoints() { # $1 = raftkv|etcd
  local i eps="" base
  base="$(port_base "$1")"
  for ((i = 0; i < NODES; i++)); do eps+="${eps:+,}http://127.0.0.1:$((base + 3 * i))"; done
  echo "$eps"
}

start_cluster() { # $1 = raftkv|etcd
  local sys="$1" i initial="" base
  base="$(port_base "$sys")"
  echo "=== $sys: starting $NODES members (heartbeat ${HEARTBEAT_MS} ms, election ${ELECTION_MS} ms)"
  for ((i = 0; i < NODES; i++)); do
    initial+="${initial:+,}m$i=http://127.0.0.1:$((base + 3 * i + 1))"
  done
  member_pids[$sys]=""
  for ((i = 0; i < NODES; i++)); do
    local c="http://127.0.0.1:$((base + 3 * i))" p="http://127.0.0.1:$((base + 3 * i + 1))"
    local m="http://127.0.0.1:$((base + 3 * i + 2))"
    local args=(--name "m$i" --data-dir "$WORK/$sys/m$i" --listen-client-urls "$c" --advertise-client-urls "$c"
      --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" --listen-metrics-urls "$m"
      --initial-cluster "$initial" --initial-cluster-token "compare-$sys" --initial-cluster-state new
      --heartbeat-interval "$HEARTBEAT_MS" --election-timeout "$ELECTION_MS" --snapshot-count "$SNAPSHOT_COUNT")
    mkdir -p "$WORK/$sys"
    if [[ "$sys" == raftkv ]]; then
      if [[ -n "${RAFTKV_JAVA_OPTS:-}" ]]; then
        JAVA_OPTS="$RAFTKV_JAVA_OPTS" "$ROOT/bin/raftkv" "${args[@]}" >"$WORK/$sys/m$i.log" 2>&1 &
      else
        "$ROOT/bin/raftkv" "${args[@]}" >"$WORK/$sys/m$i.log" 2>&1 &
      fi
    else
      etcd "${args[@]}" >"$WORK/$sys/m$i.log" 2>&1 &
    fi
    pids+=("$!")
    member_pids[$sys]+="$! "
  done
  local deadline=$((SECONDS + 90))
  until ETCDCTL_API=3 etcdctl --endpoints="$(endpoints "$sys")" --command-timeout=3s endpoint health >/dev/null 2>&1; do
    if (( SECONDS > deadline )); then
      echo "compare.sh: $sys cluster not healthy after 90 s; logs:" >&2
      tail -n 20 "$WORK/$sys"/m*.log >&2
      exit 1
    fi
    sleep 0.5
  done
}

rss_mb() { # $1 = raftkv|etcd; RSS of every member, MB, space-separated
  local pid r=""
  for pid in ${member_pids[$1]}; do r+="$(( $(ps -o rss= -p "$pid") / 1024 )) "; done
  echo "${r% }"
}

load() { # $1 system, $2 row name, rest: bench args
  local sys="$1" row="$2"
  shift 2
  local la
  la="$(cut -d' ' -f1 /proc/loadavg)"
  echo "== $sys: $row (load average $la)"
  local rc=0 log="$WORK/bench-$sys-$row.out"
  timeout "$LOAD_TIMEOUT_S" "$BENCH" "$@" --warmup "$WARMUP" --endpoints "$(endpoints "$sys")" --no-progress --label "$row" >"$log" 2>&1 || rc=$?
  grep -v '^RESULT' "$log" | sed 's/^/   /'
  if (( rc == 3 )); then
    echo "$sys $row unsupported" >>"$RESULTS"
  elif grep -q '^RESULT' "$log"; then
    echo "$sys $row loadavg=$la $(grep '^RESULT' "$log" | tail -1)" >>"$RESULTS"
  else
    echo "$sys $row failed" >>"$RESULTS"
  fi
}

prepare() { # $1 = system: idle RSS, then fill the key space the range loads read and warm up
  local sys="$1"
  echo "$sys rss-idle $(rss_mb "$sys")" >>"$RESULTS"
  echo "=== $sys: warming up for $PREPARE (puts, then reads)"
  # A JVM compiles its hot paths during the first minute of traffic (five JVMs on two cores take
  # that long); a server is measured warm, so both systems get the same unmeasured traffic first.
  "$BENCH" put --endpoints "$(endpoints "$sys")" --clients 100 --conns 10 --duration "$PREPARE" --val-size 256 \
    --key-space 10000 --no-progress >/dev/null 2>&1 || true
  "$BENCH" txn-put --endpoints "$(endpoints "$sys")" --clients 100 --conns 10 --duration 5s --val-size 256 \
    --key-space 10000 --no-progress >/dev/null 2>&1 || true
  "$BENCH" range --endpoints "$(endpoints "$sys")" --clients 100 --conns 10 --duration 5s \
    --no-progress >/dev/null 2>&1 || true
}

run_loads() { # the systems to measure, each load run on every one of them in turn
  local sys
  for sys in "$@"; do load "$sys" put-1c put --clients 1 --conns 1 --duration "$DURATION" --val-size 256; done
  for sys in "$@"; do load "$sys" put-100c put --clients 100 --conns 10 --duration "$DURATION" --val-size 256; done
  for sys in "$@"; do load "$sys" txn-put-100c txn-put --clients 100 --conns 10 --duration "$DURATION" --val-size 256; done
  for sys in "$@"; do load "$sys" range-lin-100c range --clients 100 --conns 10 --duration "$DURATION"; done
  for sys in "$@"; do load "$sys" range-ser-100c range-serializable --clients 100 --conns 10 --duration "$DURATION"; done
  for sys in "$@"; do
    load "$sys" watch-1000w watch --watchers 1000 --watch-streams 10 --clients 1 --conns 10 --rate "$WATCH_RATE" \
      --duration "$DURATION"
  done
}

if (( interleave )); then
  for sys in "${systems[@]}"; do start_cluster "$sys"; done
  sleep 5
  for sys in "${systems[@]}"; do prepare "$sys"; done
  run_loads "${systems[@]}"
  sleep 5
  for sys in "${systems[@]}"; do echo "$sys rss-after $(rss_mb "$sys")" >>"$RESULTS"; done
  stop_cluster
else
  for sys in "${systems[@]}"; do
    start_cluster "$sys"
    sleep 5
    prepare "$sys"
    run_loads "$sys"
    sleep 5
    echo "$sys rss-after $(rss_mb "$sys")" >>"$RESULTS"
    stop_cluster
  done
fi

table="$(awk '
  function field(line, k,   n, i, a, kv) {
    n = split(line, a, " ")
    for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] }
    return ""
  }
  {
    sys = $1; row = $2
    if (row ~ /^rss-/) { rss[sys, row] = substr($0, length(sys) + length(row) + 3); next }
    if (!(row in seen)) { seen[row] = 1; order[++n] = row }
    line[sys, row] = $0
  }
  function cell(sys, row, k) {
    if (!((sys, row) in line)) return "-"
    if (line[sys, row] ~ / unsupported$/) return "unsupported"
    if (line[sys, row] ~ / failed$/) return "failed"
    return field(line[sys, row], k)
  }
  function ratio(a, b) { return (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
  END {
    r = "raftkv"; e = "etcd"
    printf "| load | %s ops/s | %s ops/s | ratio | %s p50 ms | %s p50 ms | %s p99 ms | %s p99 ms | p99 ratio | %s p99.9 | %s p99.9 | load avg (%s / %s) |\n", r, e, r, e, r, e, r, e, r, e
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for (i = 1; i <= n; i++) {
      row = order[i]
      a = cell(r, row, "rps"); b = cell(e, row, "rps")
      pa = cell(r, row, "p50"); pb = cell(e, row, "p50")
      qa = cell(r, row, "p99"); qb = cell(e, row, "p99")
      xa = cell(r, row, "p999"); xb = cell(e, row, "p999")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s |\n", row, a, b, ratio(a, b), pa, pb, qa, qb, ratio(qa, qb), xa, xb, cell(r, row, "loadavg"), cell(e, row, "loadavg")
    }
    print ""
    print "| RSS per member, MB | " r " | " e " |"
    print "|---|---|---|"
    print "| idle, after start | " rss[r, "rss-idle"] " | " rss[e, "rss-idle"] " |"
    print "| idle, after the loads | " rss[r, "rss-after"] " | " rss[e, "rss-after"] " |"
  }' "$RESULTS")"

echo
mode="one cluster after the other"
(( interleave )) && mode="both clusters up, systems alternating load by load"
echo "Loads ran ${DURATION} each after ${WARMUP} unmeasured warm-up; clients spread over all members; $mode."
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio = raftkv / etcd (ops/s: higher is better for raftkv; p99: lower is better for raftkv)"
echo "$table"
if [[ -n "$out_file" ]]; then
  echo "$table" >"$out_file"
fi
