#!/bin/sh
# Builds the fake NVML driver: target/fake-nvml/libnvidia-ml.so.1 (current driver ABI) and
# target/fake-nvml-535/libnvidia-ml.so.1 (only the symbols a 535 driver exports, to test fallbacks).
set -eu
out=${1:?usage: build.sh <target-dir>}
src=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
# -z nodelete: the scenario watcher thread and blocked nvmlEventSetWait_v2 callers run code from this
# library, so a dlclose (e.g. the JVM closing a library arena) must never unmap it.
flags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -pthread -fvisibility=hidden -Wl,-soname,libnvidia-ml.so.1 -Wl,-z,nodelete"
mkdir -p "$out/fake-nvml" "$out/fake-nvml-535"
# shellcheck disable=SC2086
$cc $flags -o "$out/fake-nvml/libnvidia-ml.so.1" "$src"/*.c
# shellcheck disable=SC2086
$cc $flags -DFAKE_DRIVER_535 -o "$out/fake-nvml-535/libnvidia-ml.so.1" "$src"/*.c

# The fake DCGM: target/fake-dcgm/libdcgm.so.4 (DCGM 4.6's exports) and target/fake-dcgm-4.0/libdcgm.so.4 (without
# dcgmStopDiagnostic and dcgmConnect_v3, which 4.3 and 4.5 added). Compiled against NVIDIA's DCGM 4.6 headers (dcgm/include, vendored) so every fake
# function is checked against its prototype; the scenario parser is the fake NVML's, so both see the same GPUs.
dflags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -pthread -fvisibility=hidden -DDCGM_API_EXPORT -I$src/dcgm/include -I$src -Wl,-soname,libdcgm.so.4 -Wl,-z,nodelete"
mkdir -p "$out/fake-dcgm" "$out/fake-dcgm-4.0"
# shellcheck disable=SC2086
$cc $dflags -o "$out/fake-dcgm/libdcgm.so.4" "$src"/dcgm/*.c "$src/scenario.c" "$src/mig.c"
# shellcheck disable=SC2086
$cc $dflags -DFAKE_DCGM_40 -o "$out/fake-dcgm-4.0/libdcgm.so.4" "$src"/dcgm/*.c "$src/scenario.c" "$src/mig.c"
