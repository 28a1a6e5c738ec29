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
