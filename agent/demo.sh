#!/usr/bin/env bash
# The demo: builds the agent and runs it on the fake NVML driver with 8 simulated H100s.
#   agent/demo.sh [scenario]       # then curl the URLs it prints; Ctrl-C stops it
# Named scenarios: h100 (the default: 8 x H100, whole GPUs), mig (8 x H100 in MIG mode, 4 MIG devices each,
# profiles mixed: native-bindings/src/test/resources/scenarios/h100-mig.conf), dcgm (8 x A100, no GPM: the
# DCGM_FI_PROF_* series come from the fake DCGM, embedded; docs/dcgm.md), fabric (8 x H100 with the node
# checks on a fake host tree: 8 InfiniBand ports at 400 Gb/s, the nvidia module; docs/node-health.md).
# Change readings or inject faults while it runs by editing the scenario file it prints
# (keys: native-bindings/README.md); it prints a line that injects an XID.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
name=${1:-h100}
case "$name" in
  h100|mig|dcgm|fabric) ;;
  *) echo "demo: no scenario '$name'; the named scenarios are h100 (default), mig, dcgm and fabric" >&2; exit 2 ;;
esac
port=${PORT:-9400}
jar="$root/agent/target/quarkus-app/quarkus-run.jar"
fake="$root/native-bindings/target/fake-nvml/libnvidia-ml.so.1"
if [ ! -f "$jar" ] || [ ! -f "$fake" ] || [ -n "${REBUILD:-}" ]; then
  echo "demo: building (./mvnw -DskipTests -Dimage.skip=true install; the first build downloads dependencies)..."
  (cd "$root" && ./mvnw -q -B -DskipTests -Dimage.skip=true install)
fi
# Each scenario keeps its own editable copy and state directory: leases and events of one do not leak into another.
demo="$root/agent/target/demo/$name"
mkdir -p "$demo/state"
scenario="$demo/scenario.conf"
if [ "$name" = mig ] && [ ! -f "$scenario" ]; then
  cp "$root/native-bindings/src/test/resources/scenarios/h100-mig.conf" "$scenario"
fi
if [ "$name" = dcgm ] && [ ! -f "$scenario" ]; then
  cat > "$scenario" <<'SCN'
# Fake NVML + fake DCGM scenario for the demo: 8 x NVIDIA A100-SXM4-80GB (Ampere: no GPM, so the profiling
# series come from DCGM). Edit and save; the agent sees it within 1 s. dcgm.* keys: native-bindings/README.md.
gpus = 8
gpu.*.name = NVIDIA A100-SXM4-80GB
gpu.*.architecture = 7
gpu.*.cc_major = 8
gpu.*.cc_minor = 0
gpu.*.gpm_supported = 0
gpu.*.memory_total_mib = 81920
gpu.*.temp = 41
gpu.*.util_gpu = 37
gpu.*.memory_used_mib = 1024
gpu.*.power_mw = 180000
dcgm.gpu.*.field.1001 = 0.62
dcgm.gpu.*.field.1002 = 0.55
dcgm.gpu.*.field.1003 = 0.21
dcgm.gpu.*.field.1004 = 0.31
dcgm.gpu.*.field.1005 = 0.44
dcgm.gpu.*.field.1007 = 0.12
SCN
fi
[ -f "$scenario" ] || cat > "$scenario" <<'SCN'
# Fake NVML scenario for the demo: 8 x NVIDIA H100 80GB HBM3. Edit and save; the agent sees it within 1 s.
gpus = 8
gpu.*.temp = 41
gpu.*.util_gpu = 37
gpu.*.memory_used_mib = 1024
gpu.*.power_mw = 120000
SCN
# An event number fires once per fake driver process, and those already in the file fire (unseen) at start:
# the injection hint takes the next unused one, so it works after a restart too.
last_event=$(sed -n 's/^[[:space:]]*event\.\([0-9][0-9]*\).*/\1/p' "$scenario" | sort -n | tail -n 1)
next_event=$(( ${last_event:-0} + 1 ))
node_props=""
if [ "$name" = fabric ]; then
  host="$demo/host"
  [ -d "$host" ] || cp -a "$root/agent/src/test/resources/host/dgx-h100" "$host"
  node_props="-Dgpu-agent.health.node.root=$host -Dgpu-agent.health.node.interval=2s -Dgpu-agent.health.hysteresis=10s"
  node_props="$node_props -Dgpu-agent.health.expected-gpus=8 -Dgpu-agent.health.ib.expected-ports=8"
  node_props="$node_props -Dgpu-agent.health.ib.expected-rate-gbps=400 -Dgpu-agent.health.node.holder-limit=10s"
  ib="$host/sys/class/infiniband"
  cat <<MSG
demo: gpu-agent on the fake NVML driver, 8 x H100, node checks on the host tree $host (every 2 s, cleared 10 s after a fix)
  curl -s localhost:$port/health/node
  curl -s localhost:$port/health
  curl -s localhost:$port/metrics | grep -E 'gpu_agent_node_check|gpu_agent_ib_port_up'
  java --enable-native-access=ALL-UNNAMED -jar $jar scan   (with the same -D settings, or GPU_AGENT_* variables)
demo: take a port down:        echo '1: DOWN' > $ib/mlx5_3/ports/1/state   (back: echo '4: ACTIVE' > ...)
demo: a port at the wrong rate: echo '200 Gb/sec (4X HDR)' > $ib/mlx5_5/ports/1/rate
demo: a flapping port:         echo 3 > $ib/mlx5_6/ports/1/counters/link_downed
demo: a half-upgraded driver:  echo 570.124.06 > $host/sys/module/nvidia/version   (NVML says 570.133.20)
demo: a GPU missing:           sed -i 's/^gpus = 8/gpus = 7/' $scenario
MSG
elif [ "$name" = mig ]; then
  cat <<MSG
demo: gpu-agent on the fake NVML driver, 8 x H100 in MIG mode (4 MIG devices each; GPU 0: 3g.40gb on GPU instance 2, 1g.10gb on 7, 8, 9)
  curl -s localhost:$port/metrics | grep DCGM_FI_DEV_FB_USED
  curl -s localhost:$port/metrics | grep gpu_agent_mig
  curl -s localhost:$port/health
  curl -s localhost:$port/health/gpus/0/7
  curl -s localhost:$port/v1/gpus/0
  curl -s localhost:$port/v1/gpus/0/7
  curl -s localhost:$port/q/health/ready
demo: inject an XID on GPU 0's GPU instance 7:  echo 'event.$next_event = 0 xid 31 gi=7' >> $scenario
MSG
elif [ "$name" = dcgm ]; then
  cat <<MSG
demo: gpu-agent on the fake NVML driver and the fake DCGM (embedded), 8 x A100 (no GPM)
  curl -s localhost:$port/metrics | grep -E '^DCGM_FI_PROF_(SM_ACTIVE|PIPE_TENSOR_ACTIVE|DRAM_ACTIVE)'
  curl -s localhost:$port/metrics | grep gpu_agent_field_source
  curl -s localhost:$port/health/gpus/3
demo: a DCGM health incident on GPU 3:  echo 'dcgm.gpu.3.health.0 = mem fail 4 volatile double-bit ECC error' >> $scenario
demo: the host engine going away:      echo 'dcgm.hostengine_gone = 1' >> $scenario   (then remove the line)
MSG
else
  cat <<MSG
demo: gpu-agent on the fake NVML driver, 8 x H100
  curl -s localhost:$port/metrics | grep DCGM_FI_DEV_GPU_TEMP
  curl -s localhost:$port/health
  curl -s localhost:$port/health/gpus/0
  curl -s localhost:$port/v1/gpus
  curl -s localhost:$port/v1/gpus/0
  curl -s localhost:$port/q/health/ready
demo: inject an XID on GPU 3:  echo 'event.$next_event = 3 xid 79' >> $scenario
MSG
fi
echo "demo: scenario file (edit it to change readings or inject faults): $scenario"
# The shipped JVM options (systemd/environment). When a package build staged the .deb tree, the demo runs
# its launcher: the jlink'd runtime and the AOT cache trained at package time, as the service starts.
java_opts=$(sed -n 's/^JAVA_OPTS="\(.*\)"$/\1/p' "$root/systemd/environment")
props="-Dquarkus.http.port=$port -Dgpu-agent.nvml.library=$fake -Dgpu-agent.state-dir=$demo/state $node_props"
if [ "$name" = dcgm ]; then
  # Every metric gpu-agent knows (all-counters.csv), so that DCGM_FI_PROF_SM_ACTIVE and the other opt-in ones show.
  props="$props -Dgpu-agent.dcgm.mode=embedded -Dgpu-agent.dcgm.library=$root/native-bindings/target/fake-dcgm/libdcgm.so.4"
  props="$props -Dgpu-agent.counters-file=$root/exporter/src/main/resources/io/gpuagent/exporter/all-counters.csv"
fi
staged="$root/agent/target/deb/root/usr/lib/gpu-agent"
if [ -x "$staged/bin/gpu-agent" ] && [ -z "${REBUILD:-}" ] && [ ! "$jar" -nt "$staged/app/quarkus-run.jar" ]; then
  echo "demo: the packaged launcher $staged/bin/gpu-agent (AOT cache: $([ -f "$staged/app/gpu-agent.aot" ] && echo yes || echo no))"
  exec env FAKE_NVML_SCENARIO="$scenario" JAVA_OPTS="$java_opts $props" "$staged/bin/gpu-agent"
fi
# shellcheck disable=SC2086
exec env FAKE_NVML_SCENARIO="$scenario" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  $java_opts -XX:+ExitOnOutOfMemoryError $props -jar "$jar"
