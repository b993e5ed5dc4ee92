#!/usr/bin/env bash
# Runs the Jepsen-style fault-injection harness (e2e/src/test/java/io/raftkv/e2e/jepsen).
#
#   e2e/jepsen.sh battery [--scenarios crash-3,partition-5] [--seconds 20] [--seed S] [--system raftkv|etcd]
#   e2e/jepsen.sh soak    [--runs N] [--minutes M] [--nodes 3|5] [--faults KILL,PAUSE,...] [--seed S] [--system ...]
#
# battery: the short CI battery (4 scenarios x ~20 s on 3 and 5 nodes).
# soak:    N runs x M minutes with every fault kind, alternating 3 and 5 nodes.
# Reports: e2e/target/jepsen/<time>-<scenario>-<seed>/report.md (+ latency.svg, history.txt, node logs).
# Needs root for network namespaces and nftables; without them the harness falls back to 127.x
# loopback addresses and the report says which faults it could not inject.
# Builds the node first unless --no-build is given.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-battery}"
shift || true
props=()
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenarios) props+=("-Djepsen.scenarios=$2"); shift 2 ;;
    --seconds)   props+=("-Djepsen.seconds=$2"); shift 2 ;;
    --seed)      props+=("-Djepsen.seed=$2"); shift 2 ;;
    --system)    props+=("-Djepsen.system=$2"); shift 2 ;;
    --runs)      props+=("-Djepsen.runs=$2"); shift 2 ;;
    --minutes)   props+=("-Djepsen.minutes=$2"); shift 2 ;;
    --nodes)     props+=("-Djepsen.nodes=$2"); shift 2 ;;
    --faults)    props+=("-Djepsen.faults=$2"); shift 2 ;;
    --no-build)  build=0; shift ;;
    -h|--help)   sed -n '2,14p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "jepsen.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

case "$mode" in
  battery) test=JepsenBatteryIT ;;
  soak)
    test=JepsenSoakIT
    if ! printf '%s\n' "${props[@]}" | grep -q '^-Djepsen.runs='; then
      props+=("-Djepsen.runs=4")
    fi
    ;;
  *) echo "jepsen.sh: mode must be battery or soak, not $mode" >&2; exit 2 ;;
esac

cd "$ROOT"
if [[ $build -eq 1 ]]; then
  mvn -B -q -pl node/server -am package -DskipTests
fi
# -am: the reactor supplies raftkv-lincheck (the checker) to the e2e module.
mvn -B -pl e2e -am verify -Dit.test="$test" -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "${props[@]}"
echo "reports:"
find "$ROOT/e2e/target/jepsen" -mindepth 1 -maxdepth 1 -type d | sort | tail -n 20
