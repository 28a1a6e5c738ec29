#!/bin/sh
# Test stand-in for `nvidia-smi --gpu-reset -i <uuid>` (gpu-agent.recovery.reset-command in the test
# profile): the fake NVML driver's GPU comes back when its `gpu.<index>.lost` line leaves the scenario.
# Like the real driver it refuses while any process holds NVML: the fake keeps one file per holding process
# in its holders directory (scenario key `holders`, or FAKE_NVML_HOLDERS as the test JVM sets it), so a
# reset run while the agent still holds NVML fails.
# Every run is logged to target/recovery/resets.log; a file target/recovery/fail-reset-<index> makes the
# reset of that GPU fail (exit 3), as a reset of a GPU with a broken board does.
set -eu
uuid="$1"
scenario="${FAKE_NVML_SCENARIO:?FAKE_NVML_SCENARIO is not set}"
mkdir -p target/recovery
# The GPU's index: its uuid line in the scenario, else the fake's default uuid (index in hex, third group).
index=$(sed -n "s/^gpu\.\([0-9][0-9]*\)\.uuid *= *$uuid *\$/\1/p" "$scenario" | head -n 1)
[ -n "$index" ] || index=$(printf '%d' "0x$(echo "$uuid" | cut -d- -f3)")
echo "reset $index $uuid $$" >> target/recovery/resets.log
holders=$(sed -n 's/^holders *= *//p' "$scenario" | tail -n 1)
[ -n "$holders" ] || holders="${FAKE_NVML_HOLDERS:-}"
if [ -n "$holders" ] && [ -n "$(ls -A "$holders" 2>/dev/null)" ]; then
    echo "Unable to reset GPU $uuid: in use by process(es) $(ls "$holders" | tr '\n' ' ')(NVML still initialised)"
    echo "refused $index $(ls "$holders" | tr '\n' ' ')" >> target/recovery/resets.log
    exit 1
fi
# A real reset takes seconds: long enough for concurrent requests to overlap.
sleep 0.3
if [ -e "target/recovery/fail-reset-$index" ]; then
    echo "GPU $index: the GPU did not come back from the reset (test marker)"
    exit 3
fi
tmp="$scenario.reset.$$"
grep -v "^gpu\.$index\.lost *=" "$scenario" > "$tmp" || true
mv "$tmp" "$scenario"
echo "GPU $index reset"
