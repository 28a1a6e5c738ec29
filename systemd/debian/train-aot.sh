#!/bin/sh
# Trains the JDK 25 AOT cache for the packaged agent (JEP 483/514): runs <lib>/bin/gpu-agent, the installed
# launcher on the runtime the package carries, with JAVA_OPTS from systemd/environment, on the fake NVML
# driver; scrapes it, stops it, and the JVM writes <lib>/app/gpu-agent.aot on exit.
#   systemd/debian/train-aot.sh <repo root> <staged /usr/lib/gpu-agent>
set -eu
root=$1
lib=$2
fake="$root/native-bindings/target/fake-nvml/libnvidia-ml.so.1"
[ -f "$fake" ] || { echo "train-aot.sh: $fake missing: build native-bindings first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'gpus = 8\ngpu.*.temp = 45\ngpu.*.util_gpu = 50\n' > "$work/scenario.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 19409)
# The same JVM options as the service (the cache records GC and heap choices).
JAVA_OPTS=$(sed -n 's/^JAVA_OPTS="\(.*\)"$/\1/p' "$root/systemd/environment")
# The launcher's arguments go to the application: system properties travel in JAVA_OPTS.
export JAVA_OPTS="$JAVA_OPTS -XX:AOTCacheOutput=$lib/app/gpu-agent.aot -Xlog:aot=error \
  -Dgpu-agent.nvml.library=$fake -Dgpu-agent.state-dir=$work/state -Dquarkus.http.port=$port -Dquarkus.http.host=127.0.0.1"
rm -f "$lib/app/gpu-agent.aot"
FAKE_NVML_SCENARIO="$work/scenario.conf" GPU_AGENT_CONFIG=/dev/null "$lib/bin/gpu-agent" > "$work/agent.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^DCGM_FI_DEV_GPU_TEMP{'; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$ok" = 1 ]; then
  # What a running agent does: scrapes, health, the API.
  for _ in 1 2 3 4 5; do
    for path in /metrics /health /health/gpus/0 /v1/gpus /v1/gpus/0 /q/health/ready /v1/actions /v1/leases; do
      curl -fsS -o /dev/null "http://127.0.0.1:$port$path" || true
    done
    sleep 0.3
  done
fi
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
if [ "$ok" != 1 ] || [ ! -s "$lib/app/gpu-agent.aot" ]; then
  cat "$work/agent.log" >&2
  echo "train-aot.sh: training failed (agent answered: $ok); the package would start without an AOT cache" >&2
  exit 1
fi
echo "train-aot.sh: $(du -m "$lib/app/gpu-agent.aot" | cut -f1) MB AOT cache at $lib/app/gpu-agent.aot"
