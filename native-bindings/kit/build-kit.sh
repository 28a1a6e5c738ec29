#!/bin/sh
# Builds the real-GPU validation kit: a self-contained folder and tarball (a jlink'd java.base runtime,
# the bindings jar, the C layout program and run.sh) to copy to a GPU host that has no JDK.
#   native-bindings/kit/build-kit.sh      -> native-bindings/target/gpu-agent-realgpu-kit.tar.gz
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/.mvn/find-jdk.sh"
target="$root/native-bindings/target"
jar="$target/native-bindings-0.1.0-SNAPSHOT.jar"
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -B -pl native-bindings -am package -DskipTests)
fi
kit="$target/gpu-agent-realgpu-kit"
rm -rf "$kit" "$kit.tar.gz"
mkdir -p "$kit/lib"
# java.base holds java.lang.foreign: the bindings need nothing else.
"$JAVA_HOME/bin/jlink" --add-modules java.base --strip-debug --no-header-files --no-man-pages \
  --compress zip-6 --output "$kit/runtime"
cp "$jar" "$kit/lib/native-bindings.jar"
cp "$root/native-bindings/tools/nvml_layout.c" "$here/run.sh" "$kit/"
chmod +x "$kit/run.sh"
tar -C "$target" -czf "$kit.tar.gz" gpu-agent-realgpu-kit
size=$(du -sm "$kit.tar.gz" | cut -f1)
unpacked=$(du -sm "$kit" | cut -f1)
echo "kit: $kit.tar.gz (${size} MB packed, ${unpacked} MB unpacked)"
if [ "$unpacked" -ge 60 ]; then
  echo "kit is ${unpacked} MB, over the 60 MB budget" >&2
  exit 1
fi
