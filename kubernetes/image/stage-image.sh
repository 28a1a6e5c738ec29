#!/bin/sh
# Stages the container image's root file system (called by agent/pom.xml at package time; Jib then packs it
# FROM scratch into an OCI archive, agent/target/gpu-agent-image.tar):
#   kubernetes/image/stage-image.sh <repo root> <output dir>
# -> <output dir>/root/: the jlink'd Java runtime (/opt/gpu-agent/jdk), the Quarkus app (/opt/gpu-agent/app),
# Netty's epoll library (/opt/gpu-agent/native), glibc from Debian's libc6 package (/lib, /lib64: the only shared
# libraries that runtime, Netty and NVML need; checked below), /etc/passwd and /etc/group naming the agent's
# user 65532, and an empty /tmp. Nothing is pulled from an image registry.
# Debian's libc6 .deb comes from <output dir>/../image-debs (or $GPU_AGENT_IMAGE_DEBS): put libc6_*_amd64.deb
# there, or let this script run `apt-get download libc6:amd64` (a Debian or Ubuntu build host with its package
# lists: apt-get update).
set -eu
root=$1
out=$2
. "$root/.mvn/find-jdk.sh"
app="$root/agent/target/quarkus-app"
[ -f "$app/quarkus-run.jar" ] || { echo "stage-image.sh: $app/quarkus-run.jar missing: run ./mvnw package" >&2; exit 1; }
debs=${GPU_AGENT_IMAGE_DEBS:-$out/../image-debs}

stage="$out/root"
opt="$stage/opt/gpu-agent"
rm -rf "$stage"
# The DaemonSet's mount points exist in the image (a read-only root cannot grow them later).
mkdir -p "$opt" "$stage/etc/gpu-agent" "$stage/tmp" "$stage/lib64" "$stage/var/lib/gpu-agent" "$stage/host/driver" \
  "$stage/var/lib/kubelet/pod-resources" "$stage/run/gpu-agent"

# The runtime: the same modules and stripping as the .deb's (systemd/debian/stage.sh).
"$JAVA_HOME/bin/jlink" --add-modules "$(cat "$root/systemd/debian/jdk-modules")" \
  --strip-debug --no-header-files --no-man-pages --generate-cds-archive --output "$opt/jdk"
find "$opt/jdk" -type f \( -name '*.so' -o -path '*/bin/*' -o -name jspawnhelper -o -name jexec \) \
  -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
# No AOT cache in the image yet (the .deb trains one): jlink made a CDS archive of the JDK's own classes instead.
# Its variant for a heap without compressed oops goes (the heap is 64 MB): 14 MB less.
rm -f "$opt/jdk/lib/server/classes_nocoops.jsa"
cp -R "$app" "$opt/app"
# Netty's epoll library unpacked for java.library.path, as in the .deb: otherwise Netty copies it to /tmp at start.
mkdir -p "$opt/native" "$out/epoll"
(cd "$out/epoll" && "$JAVA_HOME/bin/jar" xf "$opt"/app/lib/main/io.netty.netty-transport-native-epoll-*-linux-x86_64.jar \
  META-INF/native/libnetty_transport_native_epoll_x86_64.so)
cp "$out/epoll/META-INF/native/libnetty_transport_native_epoll_x86_64.so" "$opt/native/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$opt/native/libnetty_transport_native_epoll_x86_64.so"
rm -rf "$out/epoll"

# The JVM options: the launcher's fixed ones and JAVA_OPTS of systemd/environment (the service's, sized in
# BENCHMARKS.md), one per line, for the entrypoint's @argfile. Mount another file here to change them.
{
  sed -n 's/^JAVA_OPTS="\(.*\)"$/\1/p' "$root/systemd/environment" | tr ' ' '\n'
  printf '%s\n' -XX:+ExitOnOutOfMemoryError -Djava.library.path=/opt/gpu-agent/native --enable-native-access=ALL-UNNAMED
} | grep -v '^$' > "$opt/jvm.options"
grep -q '^-Xmx' "$opt/jvm.options" || { echo "stage-image.sh: no JAVA_OPTS in $root/systemd/environment" >&2; exit 1; }

# glibc from Debian's libc6 package. Files, not symlinks (Jib copies what a link points to): the loader at the
# path the ELF binaries name (/lib64/ld-linux-x86-64.so.2) and the libraries in the multiarch directory, which
# Debian's loader searches without an ld.so.cache.
mkdir -p "$debs"
deb=$(ls "$debs"/libc6_*_amd64.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
  if ! command -v apt-get >/dev/null || ! (cd "$debs" && apt-get download -q libc6:amd64 >&2); then
    echo "stage-image.sh: cannot get Debian's libc6 package for the image: 'apt-get download libc6:amd64' failed or" \
      "apt-get is missing. On Debian/Ubuntu run 'apt-get update' first; elsewhere put a libc6_*_amd64.deb in $debs" \
      "(or set GPU_AGENT_IMAGE_DEBS to a directory holding one); or skip the image with -Dimage.skip=true" >&2
    exit 1
  fi
  deb=$(ls "$debs"/libc6_*_amd64.deb | tail -1)
fi
rm -rf "$out/libc6"
dpkg-deb -x "$deb" "$out/libc6"
mkdir -p "$stage/lib/x86_64-linux-gnu"
for f in "$out"/libc6/lib/x86_64-linux-gnu/*.so*; do
  cp -L "$f" "$stage/lib/x86_64-linux-gnu/"
done
cp -L "$out/libc6/lib64/ld-linux-x86-64.so.2" "$stage/lib64/ld-linux-x86-64.so.2"
dpkg-deb -f "$deb" Package Version Architecture > "$out/libc6.txt"
rm -rf "$out/libc6"

# Every shared library the runtime, Netty and NVML's dependencies name must be in the image, or the image would
# fail only when started: check the NEEDED entries now. (NVML itself comes from the host's driver; it needs
# libc, libm, libdl, libpthread and librt, all glibc's.)
missing=""
for elf in "$opt/jdk/bin/java" "$opt"/jdk/lib/*.so "$opt"/jdk/lib/server/*.so "$opt"/native/*.so; do
  for lib in $(objdump -p "$elf" | awk '$1 == "NEEDED" { print $2 }') libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1; do
    case "$lib" in lib*/*) continue ;; esac
    [ -f "$stage/lib/x86_64-linux-gnu/$lib" ] || [ -f "$opt/jdk/lib/$lib" ] || [ -f "$opt/jdk/lib/server/$lib" ] \
      || missing="$missing $lib(${elf#"$stage"})"
  done
done
if [ -n "$missing" ]; then
  echo "stage-image.sh: shared libraries the image needs but does not hold:$missing; add the Debian package that ships them" >&2
  exit 1
fi

# The agent's user: 65532 (no name clash with a host's users; runAsNonRoot needs a numeric USER).
printf 'root:x:0:0:root:/root:/sbin/nologin\ngpu-agent:x:65532:65532:gpu-agent:/var/lib/gpu-agent:/sbin/nologin\n' > "$stage/etc/passwd"
printf 'root:x:0:\ngpu-agent:x:65532:\n' > "$stage/etc/group"
echo "stage-image.sh: $(du -sm "$stage" | cut -f1) MB staged in $stage ($(tr '\n' ' ' < "$out/libc6.txt"))"
