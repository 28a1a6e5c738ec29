# Sourced by agent/bench/*.sh: how the benchmarks find and start the packaged agent. Builds nothing.
#
# The agent they run, in this order:
#   1. the staged package tree agent/target/deb/root/usr/lib/gpu-agent (what the .deb installs: the jlink'd
#      runtime, the launcher bin/gpu-agent, app/ and the AOT cache trained at package time), made by
#        ./mvnw -B -pl agent -am package -DskipTests
#   2. else agent/target/quarkus-app on $JAVA_HOME, with agent/target/quarkus-app/gpu-agent.aot when a
#      package build left one (BENCH_AGENT=app forces this; profile.sh always uses it: jcmd and JFR need
#      the full JDK, and the packaged runtime leaves jdk.jfr out).
# Either way with JAVA_OPTS from systemd/environment (the shipped options), plus BENCH_JAVA_OPTS.
# BENCH_JIT=c1|full: c1 keeps the shipped -XX:TieredStopAtLevel=1, full drops it (full C2 JIT).
# BENCH_AOT=0 starts without the AOT cache.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$bench_root/.mvn/find-jdk.sh"
bench_fake="$bench_root/native-bindings/target/fake-nvml/libnvidia-ml.so.1"
bench_staged="$bench_root/agent/target/deb/root/usr/lib/gpu-agent"
bench_app="$bench_root/agent/target/quarkus-app"

# What to run: sets bench_kind (package|app), bench_launch (the command) and bench_aot (the cache or "").
bench_pick() {
  local want=${1:-${BENCH_AGENT:-auto}}
  [ -f "$bench_fake" ] || { echo "bench: $bench_fake missing; build first: ./mvnw -B -pl agent -am package -DskipTests" >&2; exit 1; }
  if [ "$want" != app ] && [ -x "$bench_staged/bin/gpu-agent" ] && [ -x "$bench_staged/jdk/bin/java" ]; then
    # A package staged before the last build would measure old code (e.g. a test run rebuilt quarkus-app).
    if [ "$bench_app/quarkus-run.jar" -nt "$bench_staged/app/quarkus-run.jar" ]; then
      echo "bench: $bench_staged is older than $bench_app; stage it again:" >&2
      echo "       ./mvnw -B -pl agent -am package -DskipTests   (or BENCH_AGENT=app to run quarkus-app without the package)" >&2
      exit 1
    fi
    bench_kind=package
    bench_launch=("$bench_staged/bin/gpu-agent")
    bench_aot="$bench_staged/app/gpu-agent.aot"
  elif [ -f "$bench_app/quarkus-run.jar" ]; then
    bench_kind=app
    bench_aot="$bench_app/gpu-agent.aot"
    bench_launch=("$JAVA_HOME/bin/java" -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED)
  else
    echo "bench: no packaged agent; build it first: ./mvnw -B -pl agent -am package -DskipTests" >&2
    echo "       (with -Ddeb.skip=true only agent/target/quarkus-app is made, without the jlink'd runtime)" >&2
    exit 1
  fi
  [ -f "$bench_aot" ] && [ "${BENCH_AOT:-1}" != 0 ] || bench_aot=""
}

# The shipped JVM options (systemd/environment), adjusted by BENCH_JIT, plus BENCH_JAVA_OPTS.
bench_java_opts() {
  local opts
  opts=$(sed -n 's/^JAVA_OPTS="\(.*\)"$/\1/p' "$bench_root/systemd/environment")
  case "${BENCH_JIT:-shipped}" in
    full) opts=$(echo "$opts" | sed 's/-XX:TieredStopAtLevel=[0-9]//') ;;
    c1) case "$opts" in *TieredStopAtLevel*) ;; *) opts="$opts -XX:TieredStopAtLevel=1" ;; esac ;;
  esac
  echo "$opts ${BENCH_JAVA_OPTS:-}"
}

# A fake-driver scenario with N GPUs: the default readings set, NVLink (18 links, the default) with traffic,
# two compute processes and one graphics process per GPU, non-zero readings everywhere a dashboard looks.
# With BENCH_MIG=1 (run-all.sh --mig; 8 GPUs only): every GPU in MIG mode with 4 MIG devices of mixed profiles,
# the processes inside the instances (native-bindings/src/test/resources/scenarios/h100-mig.conf).
bench_scenario() {
  local file=$1 gpus=$2
  if [ "${BENCH_MIG:-0}" = 1 ]; then
    [ "$gpus" = 8 ] || { echo "bench: --mig runs 8 GPUs only (the MIG scenario names GPUs 0-7)" >&2; exit 2; }
    cat > "$file" <<SCN
gpus = 8
gpu.*.temp = 45
gpu.*.power_mw = 350000
gpu.*.clock_sm = 1755
gpu.*.nvlink_tx_kib = 1048576
gpu.*.nvlink_rx_kib = 2097152
SCN
    cat "$bench_root/native-bindings/src/test/resources/scenarios/h100-mig.conf" >> "$file"
    return
  fi
  cat > "$file" <<SCN
gpus = $gpus
gpu.*.temp = 45
gpu.*.util_gpu = 50
gpu.*.util_mem = 20
gpu.*.memory_used_mib = 20480
gpu.*.power_mw = 350000
gpu.*.clock_sm = 1755
gpu.*.nvlink_tx_kib = 1048576
gpu.*.nvlink_rx_kib = 2097152
gpu.*.compute_processes = 4242:10240,4343:8192
gpu.*.graphics_processes = 4444:512
SCN
}

# bench_start <port> <workdir> <scenario> [extra JVM options...]: starts the agent in the background;
# sets bench_pid. Its log is <workdir>/agent.log; its state <workdir>/state. The fake re-reads the scenario
# every second (FAKE_NVML_WATCH_MS, default here 1000): nothing changes it after the start, and its 10 ms
# polling would compete with the agent for the 2 cores.
bench_start() {
  local port=$1 work=$2 scenario=$3
  shift 3
  local opts props
  opts="$(bench_java_opts) $*"
  props="-Dquarkus.http.port=$port -Dquarkus.http.host=127.0.0.1 -Dgpu-agent.nvml.library=$bench_fake -Dgpu-agent.state-dir=$work/state"
  if [ "$bench_kind" = package ]; then
    # The launcher adds the cache itself when it is there; BENCH_AOT=0 turns it off explicitly.
    [ -n "$bench_aot" ] || opts="$opts -XX:AOTMode=off"
    # shellcheck disable=SC2086
    env JAVA_OPTS="$opts $props" FAKE_NVML_SCENARIO="$scenario" FAKE_NVML_WATCH_MS="${FAKE_NVML_WATCH_MS:-1000}" GPU_AGENT_CONFIG=/dev/null \
      "${bench_launch[@]}" > "$work/agent.log" 2>&1 &
  else
    # shellcheck disable=SC2086
    env FAKE_NVML_SCENARIO="$scenario" FAKE_NVML_WATCH_MS="${FAKE_NVML_WATCH_MS:-1000}" GPU_AGENT_CONFIG=/dev/null "${bench_launch[@]}" $opts \
      ${bench_aot:+-XX:AOTCache=$bench_aot} $props -jar "$bench_app/quarkus-run.jar" > "$work/agent.log" 2>&1 &
  fi
  bench_pid=$!
}

# True once /metrics at <port> serves GPU series (the scrape is captured first: `curl | grep -q` under
# pipefail fails when grep exits before curl has written everything).
bench_scraped() {
  local m
  m=$(curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null) && grep -q '^DCGM_FI_DEV_GPU_TEMP{' <<< "$m"
}

# Waits (polling every 10 ms, at most 60 s) for the first good scrape; prints the milliseconds since $2 (ns).
bench_wait_scrape() {
  local port=$1 t0=$2 i
  for i in $(seq 1 6000); do
    bench_scraped "$port" && { echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.01
  done
  return 1
}

# One series' value from /metrics (first match of the regex at line start).
bench_metric() {
  local m
  m=$(curl -fsS "http://127.0.0.1:$1/metrics") && awk -v re="^$2" '$0 ~ re {print $NF; exit}' <<< "$m"
}

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# CPU ticks (user+system) of a process (or of one thread: <pid>/task/<tid>).
bench_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# CPU ticks of the fake driver's scenario watcher thread (fake-nvml-watch: it re-reads the scenario file
# every 10 ms, about 1% of a core here): test scaffolding that a host with the real driver does not run.
bench_fake_ticks() {
  local t sum=0
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = fake-nvml-watch ] && sum=$((sum + $(bench_ticks "$1/task/${t##*/}")))
  done
  echo "$sum"
}
bench_rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
bench_threads() { awk '/Threads/{print $2}' "/proc/$1/status"; }
bench_fds() { ls "/proc/$1/fd" | wc -l; }

# The fake kubelet (run-all.sh --kubelet): agent/src/test/java/io/gpuagent/agent/kubelet/FakeKubeletMain.java,
# a real grpc-java pod-resources server on a unix socket. It runs on the test classes that
# `./mvnw -B -pl agent -am package -DskipTests` compiles, the agent's classes and the packaged app's libraries
# (quarkus-app/lib/main: grpc, the shaded Netty, protobuf), so it needs no Maven run here.

# bench_kubelet_start <socket> <normal|hang|big> <gpus> <log>: starts it in the background; sets bench_kubelet_pid.
# Every GPU of the bench scenario is held by one pod (bench/bench-N, container work). In hang and big mode,
# `kill -HUP $bench_kubelet_pid` makes every later call hang, or be answered with about 100 MiB.
bench_kubelet_start() {
  local socket=$1 mode=$2 gpus=$3 log=$4 i
  # grpc-java is a test dependency: the build writes the test classpath to agent/target/test-classpath.txt.
  [ -f "$bench_root/agent/target/test-classes/io/gpuagent/agent/kubelet/FakeKubeletMain.class" ] \
    && [ -f "$bench_root/agent/target/test-classpath.txt" ] || {
    echo "bench: the fake kubelet is not compiled; build first: ./mvnw -B -pl agent -am package -DskipTests" >&2; exit 1; }
  # Its own small heap: the big mode holds one ~100 MiB answer and Netty's copy of it on the way out.
  "$JAVA_HOME/bin/java" -Xmx768m -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED \
    -cp "$bench_root/agent/target/test-classes:$bench_root/agent/target/classes:$(cat "$bench_root/agent/target/test-classpath.txt")" \
    io.gpuagent.agent.kubelet.FakeKubeletMain "$socket" "$mode" "$gpus" > "$log" 2>&1 &
  bench_kubelet_pid=$!
  for i in $(seq 1 300); do
    grep -q '^fake kubelet: listening' "$log" 2>/dev/null && [ -S "$socket" ] && return 0
    kill -0 "$bench_kubelet_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: the fake kubelet did not start within 30 s; its log:" >&2; cat "$log" >&2; exit 1
}

# The label sets of the GPU temperature series that carry a pod label, sorted: what a scrape attributes.
bench_pod_labels() {
  local m
  m=$(curl -fsS "http://127.0.0.1:$1/metrics") && grep '^DCGM_FI_DEV_GPU_TEMP{.*pod="' <<< "$m" | sed 's/}.*/}/' | sort || true
}
