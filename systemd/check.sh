#!/bin/sh
# Static checks of the systemd files: systemd-analyze verify on the unit and on the unit with the enforce
# drop-in (ExecStart pointed at an existing binary, since the package is not installed here), the exposure
# figures of both (the default unit must stay at or below 4.0), the privileged helper's socket and service
# units (verified, exposure at or below 2.0), and sh -n on the launcher, the helper and the maintainer scripts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd/check.sh: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/default" "$tmp/enforce"
# systemctl reload must reach the agent's SIGHUP handler (the configuration reload), not fail or restart it.
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$here/gpu-agent.service" \
  || { echo "systemd/check.sh: gpu-agent.service lost ExecReload=/bin/kill -HUP \$MAINPID (the configuration reload)" >&2; exit 1; }
sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$here/gpu-agent.service" > "$tmp/default/gpu-agent.service"
# A drop-in's assignments come after the unit's: appending it gives the same settings.
cat "$tmp/default/gpu-agent.service" "$here/enforce.conf" > "$tmp/enforce/gpu-agent.service"
for unit in default enforce; do
  out=$(systemd-analyze verify --man=no "$tmp/$unit/gpu-agent.service" 2>&1 || true)
  if [ -n "$out" ]; then
    echo "$unit: $out" >&2
    exit 1
  fi
  exposure=$(systemd-analyze security --offline=true --no-pager "$tmp/$unit/gpu-agent.service" 2>/dev/null \
    | sed -n 's/.*Overall exposure level for gpu-agent.service: \([0-9.]*\).*/\1/p')
  echo "systemd: $unit unit exposure $exposure (systemd-analyze security --offline=true)"
  if [ "$unit" = default ] && [ "$(echo "$exposure" | awk '{ print ($1 <= 4.0) }')" != 1 ]; then
    echo "systemd/check.sh: the default unit's exposure $exposure is over 4.0" >&2
    exit 1
  fi
done
mkdir "$tmp/privileged"
cp "$here/gpu-agent-privileged.socket" "$tmp/privileged/"
sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$here/gpu-agent-privileged@.service" > "$tmp/privileged/gpu-agent-privileged@.service"
out=$(systemd-analyze verify --man=no "$tmp/privileged/gpu-agent-privileged.socket" \
  "$tmp/privileged/gpu-agent-privileged@.service" 2>&1 || true)
if [ -n "$out" ]; then
  echo "privileged: $out" >&2
  exit 1
fi
exposure=$(systemd-analyze security --offline=true --no-pager "$tmp/privileged/gpu-agent-privileged@.service" 2>/dev/null \
  | sed -n 's/.*Overall exposure level for gpu-agent-privileged@.*service: \([0-9.]*\).*/\1/p')
echo "systemd: privileged helper unit exposure $exposure (systemd-analyze security --offline=true)"
if [ "$(echo "$exposure" | awk '{ print ($1 <= 2.0) }')" != 1 ]; then
  echo "systemd/check.sh: the privileged helper unit's exposure $exposure is over 2.0" >&2
  exit 1
fi
# The enforce drop-in grants the agent CAP_KILL at most: CAP_SYS_ADMIN belongs to the helper alone.
if grep -q '^[^#]*CAP_SYS_ADMIN' "$here/enforce.conf" "$here/gpu-agent.service"; then
  echo "systemd/check.sh: enforce.conf or gpu-agent.service grants CAP_SYS_ADMIN; it belongs to gpu-agent-privileged@.service" >&2
  exit 1
fi
sh -n "$here/gpu-agent"
sh -n "$here/gpu-agent-privileged"
for script in postinst prerm postrm; do
  sh -n "$here/debian/control-files/$script"
done
echo "systemd: unit, enforce drop-in, privileged helper, launcher and maintainer scripts pass"
