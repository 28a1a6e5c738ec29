#!/bin/sh
# Test stand-in for `nvidia-smi --gpu-reset -i <index>` (gpu-agent.recovery.reset-command in the test
# profile): the fake NVML driver's GPU comes back when its `gpu.<index>.lost` line leaves the scenario.
# Every run is logged to target/recovery/resets.log; a file target/recovery/fail-reset-<index> makes the
# reset of that GPU fail (exit 3), as a reset of a GPU with a broken board does.
set -eu
index="$1"
mkdir -p target/recovery
echo "reset $index $$" >> target/recovery/resets.log
# A real reset takes seconds: long enough for concurrent requests to overlap.
sleep 0.3
if [ -e "target/recovery/fail-reset-$index" ]; then
    echo "GPU $index: the GPU did not come back from the reset (test marker)"
    exit 3
fi
scenario="${FAKE_NVML_SCENARIO:?FAKE_NVML_SCENARIO is not set}"
tmp="$scenario.reset.$$"
grep -v "^gpu\.$index\.lost *=" "$scenario" > "$tmp" || true
mv "$tmp" "$scenario"
echo "GPU $index reset"
