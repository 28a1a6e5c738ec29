#!/usr/bin/env bash
# The whole benchmark table of BENCHMARKS.md in one command, on the packaged agent (agent/bench/lib.sh says
# which: the staged .deb tree with its jlink'd runtime and AOT cache, else agent/target/quarkus-app) with the
# shipped JVM options, on the fake NVML driver. Builds nothing: first
#   ./mvnw -B -pl agent -am package -DskipTests
#
#   agent/bench/run-all.sh [--gpus 8|64|both] [--mig] [--quick] [--soak] [--jit shipped|c1|full] [--no-aot]
#                          [--kubelet normal|hang|big]
#
# Per GPU count (default both): start to first good scrape; scrape latency at 1 connection, each scrape's own
# (scrape-latency.c, compiled here with cc) and wrk's coordinated-omission-corrected percentiles; throughput
# at 16 connections against node_exporter's textfile collector serving the same bytes, in the same run;
# resident memory after the load; CPU at rest over 60 s (/proc/<pid>/stat, the agent's threads: the JVM's less the
# fake driver's scenario watcher, whole JVM beside it); sweep duration (the agent's own
# gpu_agent_sample_duration_seconds, mean over the rest period, and its max). Then the 64/8 growth factors.
# --soak: 1M scrapes at 16 connections: RSS growth, GC pauses (-Xlog:gc), fds and threads before/after.
# --quick: short phases (3 s loads, 10 s rest, 20k-scrape soak), a smoke run of the script, not a result.
# --mig: 8 GPUs in MIG mode, 4 MIG devices each (one series set per GPU instance: 32 instead of 8).
# --kubelet normal|hang|big: pod attribution on (gpu-agent.kubelet.*, refresh every 2 s) against the fake kubelet
# (FakeKubeletMain on the agent's test classpath, agent/bench/lib.sh), every GPU held by one pod. It waits for a
# scrape with every GPU's pod labels before measuring. hang: from then on every call hangs (each ends at the 5 s
# deadline); big: every call is answered with about 100 MiB (refused by its size); the measurements start after
# the first such failure, so the bad answers overlap the loads. After them it checks that the pod labels are
# still those of the last good answer and prints that as a row. normal: the kubelet answers throughout.
# --jit c1 keeps -XX:TieredStopAtLevel=1 (as shipped), --jit full drops it (C2); run both to choose.
# Needs wrk, prometheus-node-exporter and a C compiler (apt-get install wrk prometheus-node-exporter gcc), curl,
# python3.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

gpu_set="8 64"
quick=""
soak=""
kubelet=""
args="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --gpus) shift; case "$1" in both) gpu_set="8 64" ;; *) gpu_set=$1 ;; esac ;;
    --quick) quick=1 ;;
    --mig) export BENCH_MIG=1; gpu_set=8 ;;
    --soak) soak=1 ;;
    --jit) shift; export BENCH_JIT=$1 ;;
    --no-aot) export BENCH_AOT=0 ;;
    --kubelet) shift; kubelet=${1:-}
      case "$kubelet" in normal|hang|big) ;; *) echo "run-all.sh: --kubelet takes normal, hang or big, not '$kubelet'" >&2; exit 2 ;; esac ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "run-all.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for tool in wrk prometheus-node-exporter cc curl python3; do
  command -v $tool >/dev/null || { echo "bench: $tool not found (apt-get install wrk prometheus-node-exporter gcc)" >&2; exit 1; }
done
if [ -n "$kubelet" ] && [ "${BENCH_MIG:-0}" = 1 ]; then
  echo "run-all.sh: --kubelet with --mig is not supported (the fake kubelet hands out whole GPUs)" >&2; exit 2
fi
if [ -n "$quick" ]; then load_s=3; rest_s=10; soak_n=20000; else load_s=10; rest_s=60; soak_n=1000000; fi
bench_pick

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -o "$work/scrape-latency" "$(dirname "$0")/scrape-latency.c"
cmd="agent/bench/run-all.sh${args:+ $args}"
hz=$(getconf CLK_TCK)
load=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A R
measure() {
  local gpus=$1 dir="$work/g$1" port ne_port t0
  mkdir -p "$dir/textfile"
  bench_scenario "$dir/scenario.conf" "$gpus"
  port=$(bench_free_port)
  local kpid=""
  if [ -n "$kubelet" ]; then
    bench_kubelet_start "$dir/kubelet.sock" "$kubelet" "$gpus" "$dir/kubelet.log"
    kpid=$bench_kubelet_pid
    pids+=("$kpid")
  fi
  t0=$(date +%s%N)
  if [ -n "$kubelet" ]; then
    # The shipped deadline (5 s) and answer limit (4 MiB); a refresh every 2 s so bad calls keep coming.
    GPU_AGENT_KUBELET_ENABLED=true GPU_AGENT_KUBELET_SOCKET="$dir/kubelet.sock" GPU_AGENT_KUBELET_REFRESH_INTERVAL=2s \
      bench_start "$port" "$dir" "$dir/scenario.conf" "-Xlog:gc:file=$dir/gc.log"
  else
    bench_start "$port" "$dir" "$dir/scenario.conf" "-Xlog:gc:file=$dir/gc.log"
  fi
  pids+=("$bench_pid")
  local pid=$bench_pid
  R[$gpus,start]=$(bench_wait_scrape "$port" "$t0") || { echo "bench: no good scrape within 60 s; log:" >&2; cat "$dir/agent.log" >&2; exit 1; }
  # Every GPU in the scrape (the first good scrape may come before the slowest GPU's first read), and the
  # families that need two sweeps (the DCGM_FI_PROF_* rates): the bytes measured are a whole scrape's.
  local scrape sweeps
  for _ in $(seq 1 500); do
    scrape=$(curl -fsS "http://127.0.0.1:$port/metrics" || true)
    sweeps=$(awk '/^gpu_agent_sample_duration_seconds_count /{print int($NF)}' <<< "$scrape")
    [ "$(grep -c '^DCGM_FI_DEV_GPU_TEMP{' <<< "$scrape")" -ge "$gpus" ] && [ "${sweeps:-0}" -ge 2 ] && break
    sleep 0.02
  done
  if [ -n "$kubelet" ]; then
    kubelet_good "$gpus" "$port" "$dir" "$kpid"
  fi
  curl -fsS "http://127.0.0.1:$port/metrics" > "$dir/scrape.prom"
  R[$gpus,series]=$(grep -vc '^#' "$dir/scrape.prom")
  R[$gpus,bytes]=$(wc -c < "$dir/scrape.prom")
  # node_exporter's textfile collector serves the same bytes.
  cp "$dir/scrape.prom" "$dir/textfile/gpu.prom"
  ne_port=$(bench_free_port)
  prometheus-node-exporter --web.listen-address=127.0.0.1:$ne_port --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$dir/textfile" --web.disable-exporter-metrics \
    > "$dir/ne.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$ne_port/metrics" 2>/dev/null && break; sleep 0.05; done

  wrk -t1 -c1 -d"${load_s}s" "http://127.0.0.1:$port/metrics" > /dev/null   # warm-up (JIT, heap)
  local lat
  lat=$(wrk -t1 -c1 -d"${load_s}s" --latency "http://127.0.0.1:$port/metrics")
  R[$gpus,p50]=$(awk '/ 50%/{print $2}' <<< "$lat")
  R[$gpus,p99]=$(awk '/ 99%/{print $2}' <<< "$lat")
  read -r R[$gpus,own_p50] R[$gpus,own_p99] R[$gpus,own_p999] R[$gpus,own_max] R[$gpus,own_n] \
    < <("$work/scrape-latency" "$port" "$load_s")
  R[$gpus,rps]=$(wrk -t2 -c16 -d"${load_s}s" "http://127.0.0.1:$port/metrics" | awk '/Requests\/sec/{print $2}')
  R[$gpus,rss]=$(( $(bench_rss_kb "$pid") / 1024 ))
  R[$gpus,ne_rps]=$(wrk -t2 -c16 -d"${load_s}s" "http://127.0.0.1:$ne_port/metrics" | awk '/Requests\/sec/{print $2}')
  R[$gpus,ratio]=$(awk -v a="${R[$gpus,rps]}" -v b="${R[$gpus,ne_rps]}" 'BEGIN{printf "%.1f", a/b}')

  # At rest: CPU of the whole JVM and the sweeps the agent timed itself, over the same period.
  sleep 5
  local c0 c1 f0 f1 s0 n0 s1 n1
  s0=$(bench_metric "$port" 'gpu_agent_sample_duration_seconds_sum'); n0=$(bench_metric "$port" 'gpu_agent_sample_duration_seconds_count')
  c0=$(bench_ticks "$pid"); f0=$(bench_fake_ticks "$pid")
  sleep "$rest_s"
  c1=$(bench_ticks "$pid"); f1=$(bench_fake_ticks "$pid")
  s1=$(bench_metric "$port" 'gpu_agent_sample_duration_seconds_sum'); n1=$(bench_metric "$port" 'gpu_agent_sample_duration_seconds_count')
  R[$gpus,cpu]=$(awk -v d=$((c1 - c0 - (f1 - f0))) -v hz="$hz" -v s="$rest_s" 'BEGIN{printf "%.2f", 100 * d / hz / s}')
  R[$gpus,cpu_jvm]=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$rest_s" 'BEGIN{printf "%.2f", 100 * d / hz / s}')
  R[$gpus,sweep]=$(awk -v s0="$s0" -v s1="$s1" -v n0="$n0" -v n1="$n1" 'BEGIN{ if (n1 > n0) printf "%.2f", 1000 * (s1 - s0) / (n1 - n0); else print "n/a" }')
  R[$gpus,sweep_max]=$(awk -v m="$(bench_metric "$port" 'gpu_agent_sample_duration_seconds_max')" 'BEGIN{printf "%.2f", 1000 * m}')
  R[$gpus,threads]=$(bench_threads "$pid")

  if [ -n "$soak" ]; then
    soak "$gpus" "$port" "$pid" "$dir"
  fi
  if [ -n "$kubelet" ]; then
    kubelet_after "$gpus" "$port" "$dir"
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "$kpid" ]; then kill "$kpid" 2>/dev/null || true; wait "$kpid" 2>/dev/null || true; fi
}

# The refresh failures of one reason so far (0 before the first).
kubelet_failures() {
  local m
  m=$(curl -fsS "http://127.0.0.1:$1/metrics") || { echo 0; return 0; }
  awk -v r="reason=\"$2\"" '/^gpu_agent_kubelet_refresh_failures_total\{/ && index($0, r) { n += $NF } END { printf "%d", n }' <<< "$m"
}

# Waits (at most 60 s) for a scrape with every GPU's pod labels and keeps them; in hang and big mode then turns
# the kubelet bad and waits (at most 60 s) for the agent's first failed refresh, so the loads run against it.
kubelet_good() {
  local gpus=$1 port=$2 dir=$3 kpid=$4 labels="" reason
  for _ in $(seq 1 600); do
    labels=$(bench_pod_labels "$port")
    [ -n "$labels" ] && [ "$(wc -l <<< "$labels")" -ge "$gpus" ] && break
    sleep 0.1
  done
  [ -n "$labels" ] && [ "$(wc -l <<< "$labels")" -ge "$gpus" ] || {
    echo "bench: no scrape with every GPU's pod labels within 60 s; agent log:" >&2; cat "$dir/agent.log" >&2
    echo "fake kubelet log:" >&2; cat "$dir/kubelet.log" >&2; exit 1; }
  printf '%s\n' "$labels" > "$dir/pod-labels.good"
  [ "$kubelet" = normal ] && return 0
  reason=deadline; [ "$kubelet" = big ] && reason=too_large
  kill -HUP "$kpid"
  for _ in $(seq 1 600); do
    [ "$(kubelet_failures "$port" "$reason")" -ge 1 ] && return 0
    sleep 0.1
  done
  echo "bench: the agent counted no '$reason' refresh failure within 60 s of the kubelet turning $kubelet; agent log:" >&2
  cat "$dir/agent.log" >&2; echo "fake kubelet log:" >&2; cat "$dir/kubelet.log" >&2; exit 1
}

# After the measurements: are the pod labels still those of the last good answer, and how many refreshes failed.
kubelet_after() {
  local gpus=$1 port=$2 dir=$3 reason now
  bench_pod_labels "$port" > "$dir/pod-labels.after"
  if cmp -s "$dir/pod-labels.good" "$dir/pod-labels.after"; then
    now="the same $(wc -l < "$dir/pod-labels.after") pod label sets as the last good answer"
  else
    now="LABELS CHANGED: $(diff "$dir/pod-labels.good" "$dir/pod-labels.after" | grep -c '^[<>]') lines differ from the last good answer"
  fi
  if [ "$kubelet" = normal ]; then
    R[$gpus,kubelet]="$now; refresh failures: deadline $(kubelet_failures "$port" deadline), too_large $(kubelet_failures "$port" too_large)"
  else
    reason=deadline; [ "$kubelet" = big ] && reason=too_large
    R[$gpus,kubelet]="$now, after $(kubelet_failures "$port" "$reason") '$reason' refresh failures; mapping age $(bench_metric "$port" gpu_agent_kubelet_mapping_age_seconds) s"
  fi
}

# N scrapes at 16 connections. wrk runs for a duration, not a count: each run lasts what the remaining
# scrapes take at the throughput measured above (at most 60 s), until N are done.
wrk_scrapes() {   # <port> <count>: runs at least <count> scrapes; prints how many ran, then wrk's error lines
  local port=$1 want=$2 done_n=0 rate secs out
  rate=$(awk -v r="$3" 'BEGIN{ r += 0; print (r > 0 ? r : 1000) }')
  while [ "$done_n" -lt "$want" ]; do
    # At most 60 s per run, so a rate that rose since it was measured overshoots N by a minute at most.
    secs=$(awk -v n=$((want - done_n)) -v r="$rate" 'BEGIN{ s = int(n / r * 1.02) + 1; print (s > 60 ? 60 : s) }')
    out=$(wrk -t2 -c16 -d"${secs}s" "http://127.0.0.1:$port/metrics")
    done_n=$((done_n + $(awk '/requests in/{print $1}' <<< "$out")))
    awk '/Non-2xx|Socket errors/' <<< "$out" >&2
  done
  echo "$done_n"
}

soak() {
  local gpus=$1 port=$2 pid=$3 dir=$4
  # Warm-up (5% of the scrapes) before the "before" figures, so heap growth to its working size is not counted.
  wrk_scrapes "$port" $((soak_n / 20)) "${R[$gpus,rps]}" > /dev/null 2>&1
  local rss0 fd0 th0 gc0 t0
  rss0=$(bench_rss_kb "$pid"); fd0=$(bench_fds "$pid"); th0=$(bench_threads "$pid"); gc0=$(wc -l < "$dir/gc.log")
  t0=$(date +%s)
  R[$gpus,soak_n]=$(wrk_scrapes "$port" "$soak_n" "${R[$gpus,rps]}" 2> "$dir/soak-errors.txt")
  R[$gpus,soak_s]=$(( $(date +%s) - t0 ))
  R[$gpus,soak_err]=$(tr '\n' ' ' < "$dir/soak-errors.txt")
  sleep 2
  R[$gpus,rss0]=$((rss0 / 1024)); R[$gpus,rss1]=$(( $(bench_rss_kb "$pid") / 1024 ))
  R[$gpus,rss_growth]=$(awk -v a="$rss0" -v b="$(bench_rss_kb "$pid")" 'BEGIN{printf "%.1f", 100 * (b - a) / a}')
  R[$gpus,fd]="$fd0 -> $(bench_fds "$pid")"; R[$gpus,th]="$th0 -> $(bench_threads "$pid")"
  # Pauses during the soak from -Xlog:gc: count, the longest, full collections and pauses over 10 ms.
  R[$gpus,gc]=$(tail -n +"$((gc0 + 1))" "$dir/gc.log" | awk '/Pause/ { n++; ms = $NF; sub(/ms/, "", ms); ms += 0;
      if (ms > max) max = ms; if (/Pause Full/) { full++; if (ms > fullmax) fullmax = ms } if (ms > 10) over++ }
    END { printf "%d pauses, longest %.2f ms, %d full (longest %.2f ms), %d over 10 ms", n, max, full, fullmax, over }')
}

for g in $gpu_set; do measure "$g"; done

# The table: one row per figure, result | target | command.
note=""
[ -n "$quick" ] && note=" (--quick: short phases)"
[ -n "$kubelet" ] && note="$note (attribution on, kubelet $kubelet)"
awk -v l="$load" 'BEGIN { if (l + 0 > 1.0) exit 0; exit 1 }' && note="$note (busy machine: load average $load; not a result)"
echo "machine: $(nproc) cores, load average $load; agent: $bench_kind, AOT cache: ${bench_aot:-none}; JVM options: $(bench_java_opts)"
echo
echo "| what | result | target | command |"
echo "|---|---|---|---|"
for g in $gpu_set; do
  echo "| $g GPUs: start to first good scrape$note | ${R[$g,start]} ms | <= 1000 ms with the AOT cache (8 GPUs) | \`$cmd\` |"
  echo "| $g GPUs: scrape latency, 1 connection (${R[$g,series]} series, ${R[$g,bytes]} bytes), each scrape's own (scrape-latency.c, ${R[$g,own_n]} scrapes)$note | p50 ${R[$g,own_p50]} ms, p99 ${R[$g,own_p99]} ms, p99.9 ${R[$g,own_p999]} ms, max ${R[$g,own_max]} ms | p99 <= 1 ms (8 GPUs) | \`$cmd\` |"
  echo "| $g GPUs: the same load measured by wrk (corrected for coordinated omission: adds requests never sent, see scrape-latency.c)$note | p50 ${R[$g,p50]}, p99 ${R[$g,p99]} | | \`$cmd\` |"
  echo "| $g GPUs: throughput, 16 connections, vs node_exporter textfile (same bytes, same run)$note | ${R[$g,rps]} req/s vs ${R[$g,ne_rps]} req/s = ${R[$g,ratio]}x | >= 40x | \`$cmd\` |"
  echo "| $g GPUs: resident memory after the loads$note | ${R[$g,rss]} MB | <= 128 MB (8 GPUs) | \`$cmd\` |"
  echo "| $g GPUs: CPU at rest over ${rest_s} s, the agent's threads (the JVM's less the fake driver's scenario watcher)$note | ${R[$g,cpu]}% of one core (whole JVM ${R[$g,cpu_jvm]}%) | <= 1% (8 GPUs) | \`$cmd\` |"
  echo "| $g GPUs: sweep duration (gpu_agent_sample_duration_seconds)$note | mean ${R[$g,sweep]} ms, max ${R[$g,sweep_max]} ms; ${R[$g,threads]} threads at rest | grows no worse than linearly | \`$cmd\` |"
  if [ -n "$kubelet" ]; then
    echo "| $g GPUs: pod labels after the loads, kubelet $kubelet$note | ${R[$g,kubelet]} | the labels of the last good answer | \`$cmd\` |"
  fi
  if [ -n "$soak" ]; then
    echo "| $g GPUs: soak, ${R[$g,soak_n]} scrapes at 16 connections in ${R[$g,soak_s]} s$note | RSS ${R[$g,rss0]} -> ${R[$g,rss1]} MB (${R[$g,rss_growth]}%); ${R[$g,gc]}; fds ${R[$g,fd]}; threads ${R[$g,th]} ${R[$g,soak_err]} | RSS growth <= 5%, no full GC over 10 ms, no fd or thread growth | \`$cmd\` |"
  fi
done
if [[ " $gpu_set " == *" 8 "* && " $gpu_set " == *" 64 "* ]]; then
  f() { awk -v a="$1" -v b="$2" 'BEGIN{ gsub(/[a-z]+$/, "", a); gsub(/[a-z]+$/, "", b); if (a + 0 > 0) printf "%.2fx", b / a; else print "n/a" }'; }
  # wrk prints latencies with a unit (us or ms): convert to ms first.
  ms() { awk -v v="$1" 'BEGIN{ u = v; gsub(/[0-9.]/, "", u); n = v + 0; if (u == "us") n /= 1000; if (u == "s") n *= 1000; printf "%.3f", n }'; }
  echo "| growth 64/8 GPUs (linear would be 8x)$note | p99 $(f "${R[8,own_p99]}" "${R[64,own_p99]}") (wrk's $(f "$(ms "${R[8,p99]}")" "$(ms "${R[64,p99]}")")), sweep $(f "${R[8,sweep]}" "${R[64,sweep]}"), CPU at rest $(f "${R[8,cpu]}" "${R[64,cpu]}"), RSS $(f "${R[8,rss]}" "${R[64,rss]}"), bytes per scrape $(f "${R[8,bytes]}" "${R[64,bytes]}") | no worse than linear | \`$cmd\` |"
fi
