#!/usr/bin/env bash
# A/B of two raftkv builds on this machine: starts a 5-member cluster of each at once (A and B,
# same flags, separate ports and data dirs), warms both up, then runs the same load against A and
# B alternately for a number of rounds and prints one line per measurement plus the means. Both
# clusters are up the whole time, so both see the same background (the idle one's flushes and
# compactions included); figures are slower than compare.sh's, but alike on both sides. Every
# process it starts is stopped and every data dir removed when it ends, also on failure or Ctrl-C.
#
# Usage: e2e/bench/ab.sh A_APP B_APP [ROUNDS]
#   A_APP, B_APP  quarkus-app directories of the two builds (copy node/server/target/quarkus-app
#                 aside before rebuilding), e.g. /tmp/base-app /work/raftkv/node/server/target/quarkus-app
#   ROUNDS        A/B pairs to measure (default 4)
# Environment: LOAD (raftkv-bench arguments; default "put --clients 100 --conns 10 --val-size 256"),
#   WARMLOAD (load for the 45 s warm-up of each cluster; default LOAD: a read load wants puts),
#   WARMTIME (that warm-up, 45s), MEAS (measured time per run, 15s), WARMUP (unmeasured time per
#   run, 20s),
#   A_OPTS, B_OPTS (JVM options per side; default bin/raftkv's), PORT_BASE (23700; B uses +1000).
# Closed-loop rounds on a shared 2-core machine differ by up to +-20%: trust differences that are
# larger, or that point the same way in every round.
set -euo pipefail

self="${BASH_SOURCE[0]}"
ROOT="$(cd "$(dirname "$(readlink -f "$self")")/../.." && pwd)"
BENCH="$ROOT/bin/raftkv-bench"
if [[ $# -lt 2 ]]; then
  sed -n '9,19p' "$self" >&2
  exit 2
fi
A_APP="$1"; B_APP="$2"; ROUNDS="${3:-4}"
for app in "$A_APP" "$B_APP"; do
  [[ -f "$app/quarkus-run.jar" ]] || { echo "ab.sh: no quarkus-run.jar in $app" >&2; exit 2; }
done
LOAD="${LOAD:-put --clients 100 --conns 10 --val-size 256}"
WARMLOAD="${WARMLOAD:-$LOAD}"
MEAS="${MEAS:-15s}"
WARMUP="${WARMUP:-20s}"
WARMTIME="${WARMTIME:-45s}"
PORT_BASE="${PORT_BASE:-23700}"
DEFAULT_OPTS="-Xms64m -Xmx512m -XX:+UseSerialGC -XX:MaxDirectMemorySize=256m -XX:MaxMetaspaceSize=160m"
DEFAULT_OPTS+=" -XX:ReservedCodeCacheSize=64m -Xss512k -XX:+UseCompressedOops -XX:-UsePerfData"
A_OPTS="${A_OPTS:-$DEFAULT_OPTS}"
B_OPTS="${B_OPTS:-$DEFAULT_OPTS}"
WORK="$(mktemp -d /tmp/raftkv-ab.XXXXXX)"
pids=()

cleanup() {
  # Every member's command line names its data dir under $WORK: that finds the JVMs as well as
  # their timeout wrappers.
  pkill -TERM -f -- "$WORK" 2>/dev/null || true
  for _ in $(seq 1 100); do
    pgrep -f -- "$WORK" >/dev/null || break
    sleep 0.1
  done
  pkill -KILL -f -- "$WORK" 2>/dev/null || true
  local pid
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

endpoints() { # $1 = port base
  local i eps=""
  for i in 0 1 2 3 4; do eps+="${eps:+,}http://127.0.0.1:$(($1 + i))"; done
  echo "$eps"
}

start() { # $1 = name, $2 = port base, $3 = app dir, $4 = JVM options
  local n="$1" b="$2" app="$3" opts="$4" i init=""
  for i in 0 1 2 3 4; do init+="${init:+,}$n$i=http://127.0.0.1:$((b + 10 + i))"; done
  for i in 0 1 2 3 4; do
    local c="http://127.0.0.1:$((b + i))" p="http://127.0.0.1:$((b + 10 + i))"
    # JVM options are a list: word splitting intended. Each member stops itself after 2 hours.
    # shellcheck disable=SC2086
    MALLOC_ARENA_MAX=2 timeout 7200 java $opts -jar "$app/quarkus-run.jar" --name "$n$i" \
      --data-dir "$WORK/$n$i" --listen-client-urls "$c" --advertise-client-urls "$c" \
      --listen-peer-urls "$p" --initial-advertise-peer-urls "$p" \
      --listen-metrics-urls "http://127.0.0.1:$((b + 20 + i))" --initial-cluster "$init" \
      --initial-cluster-token "ab-$n" --initial-cluster-state new --heartbeat-interval 100 \
      --election-timeout 1000 --snapshot-count 100000 >"$WORK/$n$i.log" 2>&1 &
    pids+=("$!")
  done
}

measure() { # $1 = side, $2 = endpoints; prints "side load-average rps p50 p99 p99.9 max"
  # LOAD is a list of arguments: word splitting intended.
  # shellcheck disable=SC2086
  timeout 600 "$BENCH" $LOAD --endpoints "$2" --duration "$MEAS" --warmup "$WARMUP" --no-progress 2>&1 \
    | awk -v s="$1" -v l="$(cut -d' ' -f1 /proc/loadavg)" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
        print s, l, r["rps"], r["p50"], r["p99"], r["p999"], r["max"] }'
}

EA="$(endpoints "$PORT_BASE")"; EB="$(endpoints $((PORT_BASE + 1000)))"
start a "$PORT_BASE" "$A_APP" "$A_OPTS"
start b $((PORT_BASE + 1000)) "$B_APP" "$B_OPTS"
for e in "$EA" "$EB"; do
  deadline=$((SECONDS + 90))
  until ETCDCTL_API=3 etcdctl --endpoints="$e" --command-timeout=3s endpoint health >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { echo "ab.sh: cluster at $e not healthy after 90 s" >&2; tail -n 5 "$WORK"/*.log >&2; exit 1; }
    sleep 0.5
  done
done
echo "A: $A_APP; B: $B_APP; load: $LOAD; $ROUNDS rounds of $WARMUP unmeasured + $MEAS measured"
for e in "$EA" "$EB"; do
  # shellcheck disable=SC2086
  timeout 600 "$BENCH" $WARMLOAD --endpoints "$e" --duration "$WARMTIME" --no-progress >/dev/null 2>&1 || true
done
echo "side loadavg ops/s p50 p99 p99.9 max (ms)"
results="$WORK/results"
for ((r = 1; r <= ROUNDS; r++)); do
  measure A "$EA" | tee -a "$results"
  measure B "$EB" | tee -a "$results"
done
awk '{ n[$1]++; rps[$1] += $3; p99[$1] += $5; p999[$1] += $6 }
  END { for (s in n) printf "mean %s: %.0f ops/s, p99 %.1f ms, p99.9 %.1f ms over %d runs\n",
        s, rps[s] / n[s], p99[s] / n[s], p999[s] / n[s], n[s] }' "$results" | sort
rss() { # $1 = name prefix
  local pid out=""
  for pid in $(pgrep -f -- "--name $1[0-4] " || true); do
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == java ]] || continue # not the timeout wrapper
    out+="$(awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$pid/status" 2>/dev/null) "
  done
  echo "$out"
}
echo "RSS MB after the runs: A $(rss a)| B $(rss b)"
