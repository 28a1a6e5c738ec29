#!/bin/sh
# gpu-agent real-GPU check. Copy this folder to a GPU host (no JDK needed) and run ./run.sh [library].
# 1. compiles nvml_layout.c against the host's nvml.h (NVML_INCLUDE, /usr/local/cuda/include or
#    /usr/include) and compares every struct layout with the Java bindings';
# 2. reads every binding on every GPU;
# 3. compares with nvidia-smi --query-gpu.
# Writes real-gpu-report.md here; exit 0 = all checks agree.
set -u
here=$(cd "$(dirname "$0")" && pwd)
library=${1:-libnvidia-ml.so.1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args="--library $library --out $here/real-gpu-report.md"

header_dir=""
for dir in "${NVML_INCLUDE:-}" /usr/local/cuda/include /usr/include /usr/local/include; do
  if [ -n "$dir" ] && [ -f "$dir/nvml.h" ]; then header_dir=$dir; break; fi
done
cc=$(command -v cc || command -v gcc || true)
if [ -n "$header_dir" ] && [ -n "$cc" ]; then
  if "$cc" -std=gnu11 -Wno-deprecated-declarations -I"$header_dir" "$here/nvml_layout.c" -o "$work/nvml_layout" \
      && "$work/nvml_layout" > "$work/layout.txt"; then
    args="$args --layout $work/layout.txt"
    echo "layout: compiled against $header_dir/nvml.h"
  else
    echo "layout: could not compile against $header_dir/nvml.h; skipping the layout check" >&2
  fi
else
  echo "layout: no nvml.h (set NVML_INCLUDE) or no C compiler; skipping the layout check" >&2
fi

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,uuid,name,pci.bus_id,memory.total,memory.used,utilization.gpu,temperature.gpu,power.draw,power.limit,clocks.sm,clocks.max.sm,pstate,ecc.errors.uncorrected.volatile.total \
    --format=csv,noheader,nounits > "$work/smi.csv" && args="$args --nvidia-smi $work/smi.csv"
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv > "$here/nvidia-smi-compute-apps.csv" 2>&1 || true
else
  echo "nvidia-smi: not found; skipping the comparison" >&2
fi

# shellcheck disable=SC2086
"$here/runtime/bin/java" -XX:+ExitOnOutOfMemoryError --enable-native-access=ALL-UNNAMED -cp "$here/lib/native-bindings.jar" \
  io.gpuagent.nvml.check.RealGpuCheck $args
