#!/usr/bin/env bash
# Scrape benchmarks (the targets in BENCHMARKS.md): latency with 1 connection, throughput with 16
# connections against node_exporter's textfile collector serving the same bytes, the agent's CPU cost
# at rest (sampler, 8 GPUs, 1 s) and its resident memory under load. Runs the packaged agent on the
# fake driver (8 x H100), all on loopback. Prints Markdown rows for BENCHMARKS.md.
#   agent/bench/scrape.sh [seconds-per-run]        (needs wrk and prometheus-node-exporter; BENCH_AOT=1 trains
#                                                  and uses a JDK 25 AOT cache, as systemd/gpu-agent can)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/.mvn/find-jdk.sh"
secs=${1:-10}
port=${BENCH_PORT:-19400}
ne_port=$((port + 1))
jar="$root/agent/target/quarkus-app/quarkus-run.jar"
fake="$root/native-bindings/target/fake-nvml/libnvidia-ml.so.1"
[ -f "$jar" ] && [ -f "$fake" ] || (cd "$root" && ./mvnw -q -B -DskipTests install)
for tool in wrk prometheus-node-exporter; do
  command -v $tool >/dev/null || { echo "bench: $tool not found (apt-get install wrk prometheus-node-exporter)" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

: > "$work/scenario.conf"
# BENCH_AOT=1: train a JDK 25 AOT cache first (one run of the agent that serves a few scrapes and is stopped
# with SIGTERM, which writes the cache at exit), then measure with it, as systemd/gpu-agent runs it.
aot_opts=""
if [ -n "${BENCH_AOT:-}" ]; then
  FAKE_NVML_SCENARIO="$work/scenario.conf" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
    -XX:+UseSerialGC -Xmx96m -XX:+ExitOnOutOfMemoryError -XX:AOTCacheOutput="$work/gpu-agent.aot" -Dquarkus.http.port=$port \
    -Dquarkus.http.host=127.0.0.1 -Dgpu-agent.nvml.library="$fake" -Dgpu-agent.state-dir="$work/train-state" \
    -jar "$jar" > "$work/train.log" 2>&1 &
  trainer=$!
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics" 2>/dev/null && break; sleep 0.1; done
  for _ in $(seq 1 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"; curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null || true; done
  kill -TERM $trainer; wait $trainer || true
  [ -f "$work/gpu-agent.aot" ] || { echo "bench: AOT training wrote no cache; log:" >&2; cat "$work/train.log" >&2; exit 1; }
  aot_opts="-XX:AOTCache=$work/gpu-agent.aot"
fi
t_start=$(date +%s%N)
FAKE_NVML_SCENARIO="$work/scenario.conf" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -XX:+UseSerialGC -Xmx96m -XX:+ExitOnOutOfMemoryError $aot_opts -Dquarkus.http.port=$port -Dquarkus.http.host=127.0.0.1 \
  -Dgpu-agent.nvml.library="$fake" -Dgpu-agent.state-dir="$work/state" -jar "$jar" > "$work/agent.log" 2>&1 &
agent=$!
pids+=($agent)
# Start to first good scrape (GPU series present), polled every 20 ms. The scrape is captured before grep
# looks at it: `curl | grep -q` under pipefail fails when grep exits before curl has written everything.
scraped() { local m; m=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null) && grep -q '^DCGM_FI_DEV_GPU_TEMP' <<< "$m"; }
for _ in $(seq 1 1000); do
  scraped && break
  sleep 0.02
done
scraped || { echo "bench: no GPU series after 20 s; log:" >&2; cat "$work/agent.log" >&2; exit 1; }
startup_ms=$(( ($(date +%s%N) - t_start) / 1000000 ))
curl -fsS "http://127.0.0.1:$port/metrics" > "$work/scrape.prom"
series=$(grep -vc '^#' "$work/scrape.prom")
bytes=$(wc -c < "$work/scrape.prom")

mkdir -p "$work/textfile" && cp "$work/scrape.prom" "$work/textfile/gpu.prom"
prometheus-node-exporter --web.listen-address=127.0.0.1:$ne_port --collector.disable-defaults \
  --collector.textfile --collector.textfile.directory="$work/textfile" --web.disable-exporter-metrics \
  > "$work/ne.log" 2>&1 &
pids+=($!)
sleep 1

wrk_run() { wrk "$@" 2>&1; }
p99() { awk '/ 99%/{print $2}' ; }
rps() { awk '/Requests\/sec/{print $2}' ; }

lat=$(wrk_run -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$port/metrics")
agent_p50=$(echo "$lat" | awk '/ 50%/{print $2}'); agent_p99=$(echo "$lat" | p99)
agent_rps=$(wrk_run -t2 -c16 -d"${secs}s" "http://127.0.0.1:$port/metrics" | rps)
rss_kb=$(awk '/VmRSS/{print $2}' /proc/$agent/status)
ne_rps=$(wrk_run -t2 -c16 -d"${secs}s" "http://127.0.0.1:$ne_port/metrics" | rps)
ratio=$(awk -v a="$agent_rps" -v b="$ne_rps" 'BEGIN{printf "%.1f", a/b}')

# CPU at rest: the sampler's 1 s sweeps over 8 GPUs plus the JVM's own background work.
sleep 5
t0=$(awk '{print $14+$15}' /proc/$agent/stat); sleep 30; t1=$(awk '{print $14+$15}' /proc/$agent/stat)
hz=$(getconf CLK_TCK)
cpu=$(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN{printf "%.2f", 100 * d / hz / 30}')

cmd="${BENCH_AOT:+BENCH_AOT=1 }agent/bench/scrape.sh $secs"
aot_word=$([ -n "$aot_opts" ] && echo "with a trained AOT cache" || echo "no AOT cache")
echo "| start to first good scrape (JVM, $aot_word, fake driver) | ${startup_ms} ms | <= 1.0 s (with AOT cache) | \`$cmd\` |"
echo "| scrape latency, 8 GPUs ($series series, $bytes bytes), 1 connection | p50 $agent_p50, p99 $agent_p99 | p99 <= 1 ms | \`$cmd\` |"
echo "| scrape throughput, 16 connections, 2 cores | $agent_rps req/s vs node_exporter textfile $ne_rps req/s = ${ratio}x | >= 20x | \`$cmd\` |"
echo "| agent CPU at rest (sampler 1 s, 8 GPUs, whole JVM) | ${cpu}% of one core | <= 1% | \`$cmd\` |"
echo "| resident memory after the load runs | $((rss_kb / 1024)) MB | <= 128 MB | \`$cmd\` |"
