#!/bin/sh
# Checks the image `./mvnw package` built (agent/target/gpu-agent-image.tar) by running it:
#   kubernetes/image/check-image.sh [image tar]
# skopeo reads the OCI archive (entrypoint, user, layers), umoci unpacks it into an OCI bundle, and a real container
# runtime (runc, else crun; RUNTIME=... picks one) runs it as the DaemonSet does: first the init containers'
# prepare-dir (root with CAP_CHOWN and CAP_FOWNER only) on a root-owned state directory and an operator token as a
# Secret mounts it; then the agent as user 65532, read-only root, no capabilities, no new privileges, an empty /tmp,
# the enforce overlay's agent.properties where the ConfigMap goes, and the fake NVML driver where the DaemonSet
# mounts the host's driver. /metrics must carry the GPU family, /health and /q/health/live answer 200, the agent
# run in enforce mode (so with a private token and a policy that needs no privilege), and the image's own
# `check --npd` say OK. The kubelet's pod-resources socket is a fake kubelet's (a grpc-java server, the tests'
# FakeKubeletMain, run on this machine), mounted where the DaemonSet mounts the kubelet's: every GPU's series must
# carry its pod's labels, read through the socket on the image's own runtime, read-only root and user.
# Where the kernel refuses containers (no namespaces or cgroups for the runtime), it says so and starts the same
# entrypoint from the unpacked root with chroot instead, as user 65532. Needs root, skopeo, umoci, python3, curl
# and runc or crun (Debian: apt-get install skopeo umoci runc python3 curl), and the fake driver
# (native-bindings/target/fake-nvml, built by ./mvnw package).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
image=${1:-$root/agent/target/gpu-agent-image.tar}
fake="$root/native-bindings/target/fake-nvml/libnvidia-ml.so.1"
for tool in skopeo umoci python3 curl; do
  command -v "$tool" >/dev/null || { echo "check-image.sh: $tool missing (Debian: apt-get install skopeo umoci python3 curl)" >&2; exit 1; }
done
[ -f "$image" ] || { echo "check-image.sh: $image missing: run ./mvnw package (without -Dimage.skip=true)" >&2; exit 1; }
[ -f "$fake" ] || { echo "check-image.sh: $fake missing: build native-bindings first" >&2; exit 1; }
kubelet_classes="$root/agent/target/test-classes"
kubelet_classpath="$root/agent/target/test-classpath.txt"
[ -f "$kubelet_classes/io/gpuagent/agent/kubelet/FakeKubeletMain.class" ] && [ -f "$kubelet_classpath" ] \
  || { echo "check-image.sh: the fake kubelet is not compiled: run ./mvnw package (it compiles the tests even with -DskipTests)" >&2; exit 1; }
. "$root/.mvn/find-jdk.sh"
[ "$(id -u)" = 0 ] || { echo "check-image.sh: needs root (umoci unpack keeps owners; the runtime or chroot starts the agent)" >&2; exit 1; }

work=$(mktemp -d)
name="gpu-agent-check-$$"
runtime=""
pid=""
kubelet_pid=""
cleanup() {
  if [ -n "$kubelet_pid" ]; then
    kill "$kubelet_pid" 2>/dev/null || true
    wait "$kubelet_pid" 2>/dev/null || true
  fi
  if [ -n "$runtime" ]; then
    "$runtime" kill "$name" KILL 2>/dev/null || true
    "$runtime" delete -f "$name" 2>/dev/null || true
    "$runtime" delete -f "$name-init" 2>/dev/null || true
  fi
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true   # gone before its mounts are taken away
  fi
  for m in scenario host/driver/libnvidia-ml.so.1 etc/gpu-agent/agent.properties etc/gpu-agent-secret run/gpu-agent \
    var/lib/gpu-agent var/lib/kubelet/pod-resources tmp proc; do
    umount "$work/bundle/rootfs/$m" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "check-image.sh: $image, $(du -m "$image" | cut -f1) MB"
skopeo inspect --config "oci-archive:$image" > "$work/config.json"
python3 - "$work/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
assert c["User"] == "65532:65532", "image user is %r, not 65532:65532" % c["User"]
assert c["Entrypoint"][0] == "/opt/gpu-agent/jdk/bin/java", c["Entrypoint"]
print("check-image.sh: user %s, entrypoint %s" % (c["User"], " ".join(c["Entrypoint"])))
PY
skopeo copy -q "oci-archive:$image" "oci:$work/layout:gpu-agent"
umoci unpack --image "$work/layout:gpu-agent" "$work/bundle" >/dev/null

# The fake kubelet: 8 GPUs (the fake driver's UUIDs), each held by pod bench/bench-N, container work. The kubelet's
# own socket is root's; the DaemonSet gives the agent uid 0 for it (components/kubelet-socket). This agent runs as
# 65532, so the fake's socket is opened to it instead.
mkdir -p "$work/kubelet"
"$JAVA_HOME/bin/java" -Xmx128m -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED \
  -cp "$kubelet_classes:$root/agent/target/classes:$(cat "$kubelet_classpath")" \
  io.gpuagent.agent.kubelet.FakeKubeletMain "$work/kubelet/kubelet.sock" normal 8 > "$work/kubelet.log" 2>&1 &
kubelet_pid=$!
for _ in $(seq 1 300); do
  grep -q '^fake kubelet: listening' "$work/kubelet.log" 2>/dev/null && [ -S "$work/kubelet/kubelet.sock" ] && break
  kill -0 "$kubelet_pid" 2>/dev/null || break
  sleep 0.1
done
[ -S "$work/kubelet/kubelet.sock" ] || { cat "$work/kubelet.log" >&2; echo "check-image.sh: FAILED: the fake kubelet did not start" >&2; exit 1; }
chmod 0755 "$work/kubelet"
chmod 0666 "$work/kubelet/kubelet.sock"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rootfs="$work/bundle/rootfs"
# Mount targets for single files. The settings are the enforce overlay's ConfigMap (the base's plus enforce mode and
# its policy; KubernetesManifestsTest holds the two alike): enforce mode starts only where the operator token is
# private and the policy needs no privilege the pod lacks, so this also checks the overlay's promise.
: > "$rootfs/host/driver/libnvidia-ml.so.1"
: > "$rootfs/etc/gpu-agent/agent.properties"
mkdir -p "$rootfs/var/lib/kubelet/pod-resources"
mkdir -p "$rootfs/scenario" "$rootfs/etc/gpu-agent-secret"
# The state directory as the kubelet makes a hostPath, and the token directory as an emptyDir: root's, 0755. The
# init containers must give them to 65532.
mkdir -p "$work/state" "$work/run" "$work/scenario" "$work/secret"
chmod 0755 "$work" "$work/state" "$work/run" "$work/scenario"
printf 'operator-token-for-the-check\n' > "$work/secret/token"
chmod 0400 "$work/secret/token"
printf 'gpus = 8\ngpu.*.temp = 45\ngpu.*.util_gpu = 50\n' > "$work/scenario/scenario.conf"
chmod 0644 "$work/scenario/scenario.conf"
settings="$root/kubernetes/overlays/enforce/agent.properties"
# NODE_NAME as the downward API sets it; no API server or kubelet answers here, which must not stop metrics or health.
env="FAKE_NVML_SCENARIO=/scenario/scenario.conf QUARKUS_HTTP_PORT=$port QUARKUS_HTTP_HOST=127.0.0.1 NODE_NAME=check-node"

# The bundle as the DaemonSet runs it. The host's network (the probes come from here); no cgroup settings: this
# checks the image, not resource limits (and some kernels here mix cgroup v1 and v2, which crun refuses).
python3 - "$work/bundle/config.json" "$work" "$fake" "$settings" "$env" <<'PY'
import json, sys
path, work, fake, settings, env = sys.argv[1:6]
c = json.load(open(path))
p = c["process"]
p["terminal"] = False
p.pop("rlimits", None)
p["capabilities"] = {k: [] for k in p["capabilities"]}
p["noNewPrivileges"] = True
p["env"] += env.split()
c["root"]["readonly"] = True
linux = c["linux"]
linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"]
linux.pop("resources", None)
linux.pop("cgroupsPath", None)
c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"] + [
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    {"destination": "/var/lib/gpu-agent", "type": "bind", "source": work + "/state", "options": ["rbind", "rw"]},
    {"destination": "/run/gpu-agent", "type": "bind", "source": work + "/run", "options": ["rbind", "ro"]},
    {"destination": "/etc/gpu-agent/agent.properties", "type": "bind", "source": settings, "options": ["rbind", "ro"]},
    {"destination": "/host/driver/libnvidia-ml.so.1", "type": "bind", "source": fake, "options": ["rbind", "ro"]},
    {"destination": "/scenario", "type": "bind", "source": work + "/scenario", "options": ["rbind", "ro"]},
    {"destination": "/var/lib/kubelet/pod-resources", "type": "bind", "source": work + "/kubelet", "options": ["rbind", "rw"]},
]
json.dump(c, open(path, "w"), indent=1)
PY

# The DaemonSet's init containers first: the image's prepare-dir as root with CAP_CHOWN and CAP_FOWNER only, on a
# read-only root: the state directory (base), then the operator token's directory with a Secret's file (enforce).
entrypoint=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["config"]["Entrypoint"]))' "$work/config.json")
chroot=$(command -v chroot)
init=""
prepare() {
  mkdir -p "$work/init"
  python3 - "$work/bundle/config.json" "$work/init/config.json" "$work" "$@" <<'PY'
import json, sys
src, dst, work = sys.argv[1:4]
c = json.load(open(src))
c["root"]["path"] = work + "/bundle/rootfs"
p = c["process"]
p["args"] = p["args"] + ["prepare-dir"] + sys.argv[4:]
p["user"] = {"uid": 0, "gid": 0}
caps = ["CAP_CHOWN", "CAP_FOWNER"]
p["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
for m in c["mounts"]:
    if m["destination"] == "/run/gpu-agent":
        m["options"] = ["rbind", "rw"]
c["mounts"] += [{"destination": "/etc/gpu-agent-secret", "type": "bind", "source": work + "/secret", "options": ["rbind", "ro"]}]
json.dump(c, open(dst, "w"), indent=1)
PY
  for candidate in ${RUNTIME:-runc crun}; do
    command -v "$candidate" >/dev/null || continue
    if "$candidate" run --bundle "$work/init" "$name-init" >> "$work/init.log" 2>&1; then
      init="in $candidate as root with CAP_CHOWN and CAP_FOWNER"
      return 0
    fi
    "$candidate" delete -f "$name-init" 2>/dev/null || true
    grep -q '^prepare-dir' "$work/init.log" && { cat "$work/init.log" >&2; echo "check-image.sh: FAILED: prepare-dir in $candidate" >&2; exit 1; }
  done
  # No runtime: the same from the unpacked root.
  mkdir -p "$rootfs/proc"
  mount -t proc proc "$rootfs/proc"
  mount --bind "$work/state" "$rootfs/var/lib/gpu-agent"
  mount --bind "$work/run" "$rootfs/run/gpu-agent"
  mount --bind -o ro "$work/secret" "$rootfs/etc/gpu-agent-secret"
  # shellcheck disable=SC2086
  env -i PATH=/usr/bin:/bin "$chroot" "$rootfs" $entrypoint prepare-dir "$@" >> "$work/init.log" 2>&1 \
    || { cat "$work/init.log" >&2; echo "check-image.sh: FAILED: prepare-dir from the unpacked root" >&2; exit 1; }
  umount "$rootfs/etc/gpu-agent-secret" "$rootfs/run/gpu-agent" "$rootfs/var/lib/gpu-agent" "$rootfs/proc"
  init="from the unpacked root (chroot, root)"
}
prepare /var/lib/gpu-agent 65532:65532
prepare /run/gpu-agent 65532:65532 /etc/gpu-agent-secret/token=operator-token
for d in state run; do
  [ "$(stat -c '%u:%g %a' "$work/$d")" = "65532:65532 750" ] \
    || { cat "$work/init.log" >&2; echo "check-image.sh: FAILED: prepare-dir left $d $(stat -c '%u:%g %a' "$work/$d")" >&2; exit 1; }
done
[ "$(stat -c '%u:%g %a %F' "$work/run/operator-token")" = "65532:65532 600 regular file" ] \
  || { echo "check-image.sh: FAILED: the token copy is $(stat -c '%u:%g %a %F' "$work/run/operator-token")" >&2; exit 1; }
echo "check-image.sh: prepare-dir ran $init: state and token directories 65532:65532 0750, token copied 0600"

log="$work/agent.log"
how=""
for candidate in ${RUNTIME:-runc crun}; do
  command -v "$candidate" >/dev/null || continue
  : > "$log"
  "$candidate" run --bundle "$work/bundle" "$name" > "$log" 2>&1 &
  pid=$!
  sleep 2
  if kill -0 "$pid" 2>/dev/null; then
    runtime=$candidate
    how="in a container ($candidate: read-only root, user 65532, no capabilities)"
    break
  fi
  echo "check-image.sh: $candidate cannot run containers here: $(tail -1 "$log")" >&2
  "$candidate" delete -f "$name" 2>/dev/null || true
  pid=""
done
if [ -z "$how" ]; then
  echo "check-image.sh: no container runtime could start the image on this kernel; starting its entrypoint from the" \
    "unpacked root with chroot instead (user 65532; the image's file system, loader and libraries)" >&2
  mkdir -p "$rootfs/proc"
  mount -t proc proc "$rootfs/proc"
  mount -t tmpfs -o mode=1777 tmpfs "$rootfs/tmp"
  mount --bind "$work/state" "$rootfs/var/lib/gpu-agent"
  mount --bind -o ro "$work/run" "$rootfs/run/gpu-agent"
  mount --bind -o ro "$settings" "$rootfs/etc/gpu-agent/agent.properties"
  mount --bind -o ro "$fake" "$rootfs/host/driver/libnvidia-ml.so.1"
  mount --bind -o ro "$work/scenario" "$rootfs/scenario"
  mount --bind "$work/kubelet" "$rootfs/var/lib/kubelet/pod-resources"
  # shellcheck disable=SC2086
  env -i PATH=/usr/bin:/bin HOME=/var/lib/gpu-agent GPU_AGENT_STATE_DIR=/var/lib/gpu-agent \
    GPU_AGENT_CONFIG=/etc/gpu-agent/agent.properties $env \
    "$chroot" --userspec=65532:65532 "$rootfs" $entrypoint > "$log" 2>&1 &
  pid=$!
  how="from the unpacked root (chroot, user 65532)"
fi

ok=0
for _ in $(seq 1 180); do
  if curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^DCGM_FI_DEV_GPU_TEMP{'; then ok=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ "$ok" != 1 ]; then
  cat "$log" >&2
  echo "check-image.sh: FAILED: the image started $how but /metrics never served the GPU family" >&2
  exit 1
fi
for path in /health /q/health/live; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || { cat "$log" >&2; echo "check-image.sh: FAILED: $path answered $code" >&2; exit 1; }
done
gpus=$(curl -fsS "http://127.0.0.1:$port/metrics" | grep -c '^DCGM_FI_DEV_GPU_TEMP{')
grep -q 'recovery: mode enforce' "$log" \
  || { cat "$log" >&2; echo "check-image.sh: FAILED: the agent did not run in the enforce overlay's mode" >&2; exit 1; }

# Pod attribution through the mounted socket: the overlay's refresh interval (10 s) after the first GPU readings.
pods=0
for _ in $(seq 1 80); do
  pods=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null \
    | grep '^DCGM_FI_DEV_GPU_TEMP{' | grep -c ',pod="bench-[0-9]*",namespace="bench",container="work"}' || true)
  [ "$pods" = "$gpus" ] && break
  sleep 0.5
done
[ "$pods" = "$gpus" ] || { cat "$log" >&2; echo "fake kubelet log:" >&2; cat "$work/kubelet.log" >&2
  echo "check-image.sh: FAILED: $pods of $gpus GPU temperature series carry the fake kubelet's pod labels" >&2; exit 1; }
# The fake offers every GPU for allocation (GetAllocatableResources), as a device plugin with healthy GPUs does.
offered=0
for _ in $(seq 1 40); do
  curl -fsS "http://127.0.0.1:$port/v1/gpus/0" 2>/dev/null | grep -q '"allocatable":true' && { offered=1; break; }
  sleep 0.5
done
[ "$offered" = 1 ] \
  || { echo "check-image.sh: FAILED: /v1/gpus/0 does not say the kubelet offers it: $(curl -sS "http://127.0.0.1:$port/v1/gpus/0")" >&2; exit 1; }

# The node-problem-detector plugin from the same image, beside the running agent: exit 0 and one line.
entrypoint=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["config"]["Entrypoint"]))' "$work/config.json")
set +e
if [ -n "$runtime" ]; then
  # shellcheck disable=SC2086
  npd=$("$runtime" exec "$name" $entrypoint check --npd --url "http://127.0.0.1:$port" 2>"$work/npd.err")
else
  # shellcheck disable=SC2086
  npd=$(env -i PATH=/usr/bin:/bin "$chroot" --userspec=65532:65532 "$rootfs" $entrypoint check --npd --url "http://127.0.0.1:$port" 2>"$work/npd.err")
fi
npd_exit=$?
set -e
case "$npd" in
  "OK: $gpus GPUs healthy") [ "$npd_exit" = 0 ] || { echo "check-image.sh: FAILED: check --npd said '$npd' with exit $npd_exit" >&2; exit 1; } ;;
  *) cat "$work/npd.err" >&2; echo "check-image.sh: FAILED: check --npd said '$npd' (exit $npd_exit), not 'OK: $gpus GPUs healthy'" >&2; exit 1 ;;
esac
echo "check-image.sh: OK: the image ran $how, in enforce mode with the enforce overlay's settings; /metrics served $gpus GPUs from the fake driver, /health and /q/health/live answered 200; pod labels and allocatable devices from the kubelet's socket on all $pods GPUs; its check --npd said '$npd'"
