#!/usr/bin/env bash
# Where the time and memory go (BENCHMARKS.md): the agent from agent/target/quarkus-app on $JAVA_HOME (a full
# JDK: jcmd and JFR; the packaged runtime leaves jdk.jfr out) with the shipped JVM options and native memory
# tracking, on the fake driver. Builds nothing (./mvnw -B -pl agent -am package -DskipTests first). Prints:
#   - the boot timeline (JVM start, Quarkus' "started in", first good scrape) and Quarkus' installed features;
#   - threads at rest: each thread's CPU and bytes allocated over the rest period, state and top frame
#     (two `jcmd Thread.print -e` dumps), and the allocation per sweep;
#   - allocation per scrape: the same over N scrapes at 1 connection (wrk);
#   - classes loaded, metaspace, heap after a full GC, native memory by category (NMT);
#   - JFR recordings (settings=profile) of the rest period and the scrape load, with their top allocation
#     sites by weight, kept with --keep.
# None of these depend on the machine's load: allocation, threads, classes and memory are counts.
#   agent/bench/profile.sh [--gpus N] [--rest S] [--scrape-s S] [--keep]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
gpus=8
rest=20
scrape_s=5
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --gpus) shift; gpus=$1 ;;
    --rest) shift; rest=$1 ;;
    --scrape-s) shift; scrape_s=$1 ;;
    --keep) keep=1 ;;
    *) echo "profile.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
bench_pick app
jcmd="$JAVA_HOME/bin/jcmd"
jfr="$JAVA_HOME/bin/jfr"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "$keep" ] && echo "profile: kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT
here=$(cd "$(dirname "$0")" && pwd)

bench_scenario "$work/scenario.conf" "$gpus"
port=$(bench_free_port)
t0=$(date +%s%N)
bench_start "$port" "$work" "$work/scenario.conf" -XX:NativeMemoryTracking=summary
pid=$bench_pid
pids+=("$pid")
first=$(bench_wait_scrape "$port" "$t0") || { cat "$work/agent.log" >&2; exit 1; }
echo "== boot ($gpus GPUs, JVM options: $(bench_java_opts), AOT cache: ${bench_aot:-none})"
echo "first good scrape: $first ms after the JVM was started"
grep -o 'started in [0-9.]*s' "$work/agent.log" | sed 's/^/Quarkus: /'
grep -o 'Installed features: .*' "$work/agent.log"
echo "log lines before the first scrape, with their times:"
sed -n 's/^\([0-9T:.-]*\)Z* *\(INFO\|WARN\) *\[\([^]]*\)\] \(.\{0,110\}\).*/  \1 \3 \4/p' "$work/agent.log" | head -20

# Warm up: every path once compiled, the heap at its working size.
wrk -t1 -c1 -d3s "http://127.0.0.1:$port/metrics" > /dev/null
sleep 3
count() { bench_metric "$port" 'gpu_agent_sample_duration_seconds_count'; }

echo
echo "== at rest for $rest s (threads: CPU and allocation in that time)"
n0=$(count)
"$jcmd" "$pid" Thread.print -e > "$work/rest0.txt"
"$jcmd" "$pid" JFR.start name=rest settings=profile filename="$work/rest.jfr" > /dev/null
sleep "$rest"
"$jcmd" "$pid" JFR.stop name=rest > /dev/null
"$jcmd" "$pid" Thread.print -e > "$work/rest1.txt"
n1=$(count)
sweeps=$(awk -v a="$n0" -v b="$n1" 'BEGIN{printf "%d", b - a}')
python3 "$here/threads-delta.py" "$work/rest0.txt" "$work/rest1.txt" "$sweeps" sweep
echo "sweeps: $sweeps; threads: $(bench_threads "$pid") (kernel count, JVM-internal ones included)"

echo
echo "== scrape load: 1 connection for $scrape_s s (event-loop allocation per scrape)"
"$jcmd" "$pid" Thread.print -e > "$work/scrape0.txt"
"$jcmd" "$pid" JFR.start name=scrape settings=profile filename="$work/scrape.jfr" > /dev/null
requests=$(wrk -t1 -c1 -d"${scrape_s}s" "http://127.0.0.1:$port/metrics" | awk '/requests in/{print $1}')
"$jcmd" "$pid" JFR.stop name=scrape > /dev/null
"$jcmd" "$pid" Thread.print -e > "$work/scrape1.txt"
delta=$(python3 "$here/threads-delta.py" "$work/scrape0.txt" "$work/scrape1.txt" "$requests" scrape)
head -6 <<< "$delta"
tail -2 <<< "$delta"
echo "scrapes: $requests"

echo
echo "== classes, metaspace, heap, native memory"
"$jcmd" "$pid" PerfCounter.print | grep -E 'java.cls.loadedClasses|java.cls.unloadedClasses|sun.cls.sharedLoadedClasses' || true
"$jcmd" "$pid" VM.metaspace | grep -A4 '^Total Usage' | head -5
"$jcmd" "$pid" GC.run > /dev/null
"$jcmd" "$pid" GC.heap_info | head -6
"$jcmd" "$pid" VM.native_memory summary | grep -E '^Total|^-  *[A-Z]' | sed 's/(reserved=[0-9]*KB, //; s/committed=/committed /' | head -24
echo "RSS: $(( $(bench_rss_kb "$pid") / 1024 )) MB"

echo
for rec in rest scrape; do
  echo "== top allocation sites (JFR ObjectAllocationSample, by weight): $rec"
  "$jfr" print --json --stack-depth 6 --events jdk.ObjectAllocationSample "$work/$rec.jfr" > "$work/$rec.json"
  python3 - "$work/$rec.json" <<'PY'
import collections, json, sys
events = json.load(open(sys.argv[1]))["recording"]["events"]
sites = collections.Counter()
for e in events:
    v = e["values"]
    if not v.get("stackTrace"):
        continue
    frames = [f"{f['method']['type']['name'].split('/')[-1]}.{f['method']['name']}:{f['lineNumber']}" for f in v["stackTrace"]["frames"][:3]]
    thread = (v.get("eventThread") or {}).get("javaName", "?")
    sites[(thread.rstrip("0123456789"), v["objectClass"]["name"].split("/")[-1], " < ".join(frames))] += v["weight"]
total = sum(sites.values()) or 1
for (thread, cls, where), w in sites.most_common(12):
    print(f"{100 * w / total:5.1f}% {thread:28} {cls:32} {where}")
PY
done
