#!/bin/sh
# Fetches NVIDIA's real NVML from Debian bookworm's non-free section, WITHOUT installing it:
#   libnvidia-ml1 (driver 535: the real libnvidia-ml.so.1) and libnvidia-ml-dev (nvml.h, CUDA 11.8).
# They are unpacked with dpkg -x into <dest> (default native-bindings/target/real-nvml), where the
# layout, symbol and real-library checks look for them. Needs apt-get; adds the non-free component to
# apt's sources if it is missing (root only).
set -eu
dest=${1:-$(cd "$(dirname "$0")/.." && pwd)/target/real-nvml}
lib="$dest/usr/lib/x86_64-linux-gnu/nvidia/current/libnvidia-ml.so.1"
if [ -e "$dest/usr/include/nvml.h" ] && [ -e "$lib" ]; then
  echo "real NVML already unpacked in $dest"
  exit 0
fi
command -v apt-get >/dev/null || { echo "fetch-debian-nvml: apt-get not found; this check needs a Debian/Ubuntu host" >&2; exit 1; }
if ! apt-cache show libnvidia-ml1 >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "fetch-debian-nvml: apt knows no libnvidia-ml1; add Debian's 'non-free' component to apt sources (as root) and retry" >&2
    exit 1
  fi
  cat > /etc/apt/sources.list.d/gpu-agent-nonfree.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
(cd "$work" && apt-get download -qq libnvidia-ml1 libnvidia-ml-dev)
mkdir -p "$dest"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest"; done
echo "unpacked $(cd "$work" && ls *.deb | tr '\n' ' ')into $dest"
