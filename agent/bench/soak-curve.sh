#!/usr/bin/env bash
# Whether the resident memory under a long scrape load settles or keeps growing: the packaged agent (lib.sh)
# at 16 connections for ROUNDS rounds of 45 s, printing after each round the scrapes, the RSS and the heap
# after the last young collection (-Xlog:gc), and the full collections so far. A heap after collection that
# climbs round after round is garbage promoted to the old generation (or a leak: a full collection tells).
#
#   agent/bench/soak-curve.sh [GPUS [ROUNDS]]      (default 8 GPUs, 4 rounds; BENCH_JAVA_OPTS adds options)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
gpus=${1:-8}
rounds=${2:-4}
bench_pick
work=$(mktemp -d)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
bench_scenario "$work/scenario.conf" "$gpus"
port=$(bench_free_port)
t0=$(date +%s%N)
bench_start "$port" "$work" "$work/scenario.conf" "-Xlog:gc:file=$work/gc.log"
pid=$bench_pid
bench_wait_scrape "$port" "$t0" > /dev/null || { echo "bench: no good scrape within 60 s" >&2; exit 1; }
wrk -t2 -c16 -d5s "http://127.0.0.1:$port/metrics" > /dev/null
heap() { grep 'Pause Young' "$work/gc.log" | tail -1 | grep -o '[0-9]*M->[0-9]*M([0-9]*M)' || echo none; }
echo "after a 5 s warm-up: RSS $(( $(bench_rss_kb "$pid") / 1024 )) MB, heap $(heap)"
for i in $(seq 1 "$rounds"); do
  n=$(wrk -t2 -c16 -d45s "http://127.0.0.1:$port/metrics" | awk '/requests in/{print $1}')
  echo "round $i: $n scrapes, RSS $(( $(bench_rss_kb "$pid") / 1024 )) MB, heap $(heap), full collections $(grep -c 'Pause Full' "$work/gc.log" || true)"
done
