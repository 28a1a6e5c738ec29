#!/bin/sh
# Static checks of the systemd files: systemd-analyze verify on the unit (ExecStart pointed at an
# existing binary, since /opt/gpu-agent is not installed here) and sh -n on the launcher.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd/check.sh: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$here/gpu-agent.service" > "$tmp/gpu-agent.service"
out=$(systemd-analyze verify --man=no "$tmp/gpu-agent.service" 2>&1 || true)
if [ -n "$out" ]; then
  echo "$out" >&2
  exit 1
fi
sh -n "$here/gpu-agent"
echo "systemd: unit and launcher pass"
