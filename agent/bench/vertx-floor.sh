#!/usr/bin/env bash
# The latency floor of the agent's HTTP stack on this machine: a bare Vert.x server (VertxFloor.java, with the
# Vert.x and Netty jars of agent/target/quarkus-app and the shipped JVM options) serving BODY bytes, once
# without garbage and once per GARBAGE size allocated per request, each measured like run-all.sh's scrape row
# (wrk, 1 connection, 10 s after a 3 s warm-up), with the number of young collections during the run.
#
#   agent/bench/vertx-floor.sh [BODY_BYTES [GARBAGE_BYTES...]]     (default 59288, and 0 30000 100000)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
body=${1:-59288}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(0 30000 100000)
command -v wrk >/dev/null || { echo "bench: wrk not found (apt-get install wrk)" >&2; exit 1; }
cp=$(ls "$bench_app"/lib/main/*.jar 2>/dev/null | grep -E '/io\.(netty|vertx)\.|jackson-core' | tr '\n' ':')
[ -n "$cp" ] || { echo "bench: no agent/target/quarkus-app; build first: ./mvnw -B -pl agent -am package -DskipTests" >&2; exit 1; }
work=$(mktemp -d)
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
echo "| garbage per request | p50 | p99 | requests/s | young collections | command |"
echo "|---|---|---|---|---|---|"
for g in "${sizes[@]}"; do
  port=$(bench_free_port)
  # shellcheck disable=SC2046
  "$JAVA_HOME/bin/java" $(bench_java_opts) -Xlog:gc:file="$work/gc.log" -cp "$cp" \
    "$bench_root/agent/bench/VertxFloor.java" "$port" "$body" "$g" > "$work/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
  wrk -t1 -c4 -d3s "http://127.0.0.1:$port/" > /dev/null
  n0=$(grep -c Pause "$work/gc.log" || true)
  out=$(wrk -t1 -c1 -d10s --latency "http://127.0.0.1:$port/")
  n1=$(grep -c Pause "$work/gc.log" || true)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  echo "| $g bytes | $(awk '$1=="50%"{print $2}' <<< "$out") | $(awk '$1=="99%"{print $2}' <<< "$out") | $(awk '/Requests\/sec/{print $2}' <<< "$out") | $((n1 - n0)) | \`agent/bench/vertx-floor.sh $body\` |"
done
