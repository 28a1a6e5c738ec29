#!/bin/sh
# Stages the gpu-agent .deb's files (called by agent/pom.xml at package time; jdeb then packs them):
#   systemd/debian/stage.sh <repo root> <output dir> <version>
# -> <output dir>/root/ (the tree, for inspection) and <output dir>/data.tar.gz (owners root, modes set).
# It jlinks the Java runtime the package carries and trains the JDK 25 AOT cache on the fake NVML driver
# (skip the training with GPU_AGENT_AOT=0).
set -eu
root=$1
out=$2
# Debian's spelling of a Maven snapshot, as jdeb writes it in the control file: 0.1.0~SNAPSHOT.
version=$(echo "$3" | sed 's/-SNAPSHOT$/~SNAPSHOT/')
. "$root/.mvn/find-jdk.sh"
app="$root/agent/target/quarkus-app"
[ -f "$app/quarkus-run.jar" ] || { echo "stage.sh: $app/quarkus-run.jar missing: run ./mvnw package" >&2; exit 1; }

stage="$out/root"
lib="$stage/usr/lib/gpu-agent"
doc="$stage/usr/share/doc/gpu-agent"
share="$stage/usr/share/gpu-agent"
rm -rf "$stage" "$out/data.tar.gz"
mkdir -p "$lib/bin" "$doc" "$share/systemd" "$share/slurm" "$stage/etc/gpu-agent" \
  "$stage/usr/lib/systemd/system" "$stage/usr/lib/sysusers.d" "$stage/usr/lib/tmpfiles.d" \
  "$stage/usr/share/lintian/overrides"

# The runtime: the JDK modules the app and its libraries use (jdeps over app/lib), nothing else. The
# modules image stays uncompressed: the .deb is compressed anyway and start-up reads it uncompressed.
"$JAVA_HOME/bin/jlink" --add-modules "$(cat "$root/systemd/debian/jdk-modules")" \
  --strip-debug --no-header-files --no-man-pages --output "$lib/jdk"
# Native code stripped as dh_strip does (Temurin ships symbols): smaller, and Debian policy. Before the AOT
# training, so that the cache is made by exactly the JVM that ships.
find "$lib/jdk" -type f \( -name '*.so' -o -path '*/bin/*' -o -name jspawnhelper -o -name jexec \) \
  -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +
# The JDK's own default CDS archive is left out: the AOT cache below replaces it.
rm -f "$lib/jdk/lib/server/classes.jsa" "$lib/jdk/lib/server/classes_nocoops.jsa"

cp -R "$app" "$lib/app"
# Netty's epoll library (the transport of the unix socket /run/gpu-agent/http.sock), unpacked here for the
# launcher's java.library.path: otherwise Netty copies it out of its jar into /tmp at every start, and the agent
# cannot start where /tmp is mounted noexec.
mkdir -p "$lib/native" "$out/epoll"
(cd "$out/epoll" && "$JAVA_HOME/bin/jar" xf "$lib"/app/lib/main/io.netty.netty-transport-native-epoll-*-linux-x86_64.jar \
  META-INF/native/libnetty_transport_native_epoll_x86_64.so)
install -m 0644 "$out/epoll/META-INF/native/libnetty_transport_native_epoll_x86_64.so" "$lib/native/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$lib/native/libnetty_transport_native_epoll_x86_64.so"
rm -rf "$out/epoll"
install -m 0755 "$root/systemd/gpu-agent" "$lib/bin/gpu-agent"
install -m 0755 "$root/systemd/gpu-agent-privileged" "$lib/bin/gpu-agent-privileged"
install -m 0644 "$root/systemd/gpu-agent.service" "$stage/usr/lib/systemd/system/gpu-agent.service"
install -m 0644 "$root/systemd/gpu-agent-privileged.socket" "$stage/usr/lib/systemd/system/gpu-agent-privileged.socket"
install -m 0644 "$root/systemd/gpu-agent-privileged@.service" "$stage/usr/lib/systemd/system/gpu-agent-privileged@.service"
install -m 0644 "$root/systemd/gpu-agent.sysusers" "$stage/usr/lib/sysusers.d/gpu-agent.conf"
install -m 0644 "$root/systemd/gpu-agent.tmpfiles" "$stage/usr/lib/tmpfiles.d/gpu-agent.conf"
install -m 0644 "$root/systemd/agent.properties" "$stage/etc/gpu-agent/agent.properties"
install -m 0644 "$root/systemd/environment" "$stage/etc/gpu-agent/environment"
install -m 0644 "$root/systemd/enforce.conf" "$share/systemd/enforce.conf"
cp -R "$root/rules" "$share/rules"
cp -R "$root/grafana" "$share/grafana"
for f in "$root"/agent/slurm/*; do
  # gpu-agent-lease.sh is sourced by the prolog and epilog, not run.
  case "$f" in *.sh) mode=0644 ;; *) mode=0755 ;; esac
  install -m "$mode" "$f" "$share/slurm/$(basename "$f")"
done
install -m 0644 "$root/systemd/debian/lintian-overrides" "$stage/usr/share/lintian/overrides/gpu-agent"

# Docs: README, docs/*.md and systemd/README.md, compressed as Debian policy asks.
install -m 0644 "$root/systemd/debian/copyright" "$doc/copyright"
cp "$root/README.md" "$doc/README.md"
cp "$root/systemd/README.md" "$doc/systemd.md"
for f in "$root"/docs/*.md; do cp "$f" "$doc/"; done
sed -e "s/DEBVERSION/$version/" -e "s/DEBDATE/$(date -R -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")/" \
  "$root/systemd/debian/changelog" > "$doc/changelog"
# A version without a Debian revision is a native package: its changelog is changelog.gz.
gzip -9n "$doc"/*.md "$doc/changelog"

# JDK 25 AOT cache (JEP 483/514): one training run of the packaged app, as installed, on the fake driver.
# Loaded and linked classes are then mapped at start instead of parsed; the launcher uses the file when it
# exists and the JVM ignores it (with a warning) if it does not match.
if [ "${GPU_AGENT_AOT:-1}" = 1 ]; then
  sh "$root/systemd/debian/train-aot.sh" "$root" "$lib"
fi

find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -perm -0100 -exec chmod 0644 {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@${SOURCE_DATE_EPOCH:-$(date +%s)}" \
  -C "$stage" -czf "$out/data.tar.gz" .
echo "stage.sh: $(du -sm "$stage" | cut -f1) MB staged in $stage"
