#!/bin/sh
# Installs the .deb on this machine and checks it as an operator would; CI (.ci/run) runs it as root on
# Debian 12, usually without systemd as PID 1, so the service is started by hand as its own user.
#   systemd/deb-test.sh [agent/target/gpu-agent_<version>_amd64.deb]
# lintian (no errors); dpkg -i (user, directories, unit enabled); the installed launcher on the fake NVML
# driver answers /health and /metrics and says READY=1 on a notify socket; an upgrade keeps the state and
# the operator's conffile edits; dpkg -r keeps state and configuration; dpkg -P leaves nothing but the user.
# Credentials: one token file per role the shipped config names (0600, user gpu-agent), accepted by the
# installed agent for its role only, kept across upgrades, made for a role named later, gone on purge.
# The privileged helper: installed and verified but not enabled; refuses what is not {action, GPU}; an
# enforce-mode agent with no capability refuses to start without its socket, and resets a GPU through it.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
deb=${1:-$(ls -t "$root"/agent/target/gpu-agent_*_amd64.deb 2>/dev/null | head -1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "deb-test: no .deb; build it with ./mvnw package" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "deb-test: installs a package: run as root (or in a throw-away container)" >&2; exit 1; }
fail() { echo "deb-test: FAIL: $*" >&2; exit 1; }
step() { echo "deb-test: $*"; }

if ! command -v lintian >/dev/null; then
  for try in 1 2 3 4 5; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian >/dev/null && break
    echo "deb-test: apt-get busy or failed (try $try); retrying" >&2
    sleep 10
  done
fi
work=$(mktemp -d)
chmod 755 "$work"
agent_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  [ -n "${listener_pid:-}" ] && kill "$listener_pid" 2>/dev/null || true
  [ -n "${accept_pid:-}" ] && kill "$accept_pid" 2>/dev/null || true
  rm -rf "$work" /run/gpu-agent
}
trap cleanup EXIT

step "$(basename "$deb"): $(du -m "$deb" | cut -f1) MB; lintian"
lintian --fail-on error "$deb" || fail "lintian reports errors"

dpkg -P gpu-agent >/dev/null 2>&1 || true
step "dpkg -i"
dpkg -i "$deb"
dpkg -L gpu-agent > "$work/files"
getent passwd gpu-agent >/dev/null || fail "no gpu-agent user"
[ "$(stat -c %U:%a /var/lib/gpu-agent)" = "gpu-agent:750" ] || fail "/var/lib/gpu-agent is $(stat -c %U:%a /var/lib/gpu-agent)"
[ "$(stat -c %U:%G:%a /etc/gpu-agent)" = "root:gpu-agent:750" ] || fail "/etc/gpu-agent is $(stat -c %U:%G:%a /etc/gpu-agent)"
[ -L /etc/systemd/system/multi-user.target.wants/gpu-agent.service ] || fail "gpu-agent.service is not enabled"
[ -s /usr/lib/gpu-agent/app/gpu-agent.aot ] || fail "no AOT cache in the package"
[ -x /usr/lib/gpu-agent/jdk/bin/java ] || fail "no Java runtime in the package"

# A token file as the package must make it: the agent's user only, mode 0600, a 32-byte random token.
check_token() {
  grep -q "^gpu-agent.auth.$1-token-file=/etc/gpu-agent/$1-token\$" /etc/gpu-agent/agent.properties \
    || fail "agent.properties does not name /etc/gpu-agent/$1-token"
  [ "$(stat -c %U:%G:%a "/etc/gpu-agent/$1-token" 2>/dev/null)" = "gpu-agent:gpu-agent:600" ] \
    || fail "/etc/gpu-agent/$1-token is $(stat -c %U:%G:%a "/etc/gpu-agent/$1-token" 2>/dev/null || echo missing), not gpu-agent:gpu-agent:600"
  [ "$(tr -d ' \t\r\n' < "/etc/gpu-agent/$1-token" | wc -c)" -ge 43 ] || fail "/etc/gpu-agent/$1-token holds no 32-byte token"
}
step "credentials: operator and scheduler token files"
check_token operator
check_token scheduler
[ "$(cat /etc/gpu-agent/operator-token)" != "$(cat /etc/gpu-agent/scheduler-token)" ] || fail "two roles got the same token"
( umask 077; cd /etc/gpu-agent && md5sum operator-token scheduler-token > "$work/tokens" )

# The fake driver and its scenario where the service's user can read them.
cp "$root/native-bindings/target/fake-nvml/libnvidia-ml.so.1" "$work/"
printf 'gpus = 8\ngpu.*.temp = 52\n' > "$work/scenario.conf"
chmod 644 "$work/libnvidia-ml.so.1" "$work/scenario.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 19499)

# Runs the installed launcher as the unit does (its user, its environment file) on the fake driver.
start_agent() {
  # What RuntimeDirectory=gpu-agent, RuntimeDirectoryMode=0750 make at each start (and remove at each stop).
  grep -qx 'RuntimeDirectory=gpu-agent' /usr/lib/systemd/system/gpu-agent.service || fail "the unit has no RuntimeDirectory=gpu-agent"
  rm -rf /run/gpu-agent
  install -d -m 0750 -o gpu-agent -g gpu-agent /run/gpu-agent
  (
    set -a
    . /etc/gpu-agent/environment
    set +a
    # The unit's own Environment= (the unix socket), as systemd would set it.
    for kv in $(sed -n 's/^Environment=//p' /usr/lib/systemd/system/gpu-agent.service); do export "$kv"; done
    export GPU_AGENT_NVML_LIBRARY="$work/libnvidia-ml.so.1" FAKE_NVML_SCENARIO="$work/scenario.conf" \
      QUARKUS_HTTP_PORT="$port" QUARKUS_HTTP_HOST=127.0.0.1 JAVA_OPTS="$JAVA_OPTS ${1:-}"
    [ -n "${NOTIFY_SOCKET:-}" ] && export NOTIFY_SOCKET
    exec setpriv --reuid=gpu-agent --regid=gpu-agent --init-groups /usr/lib/gpu-agent/bin/gpu-agent
  ) > "$work/agent.log" 2>&1 &
  agent_pid=$!
}
# Seconds until /metrics serves all 8 GPUs, or failure.
wait_metrics() {
  t0=$(date +%s.%N)
  for _ in $(seq 1 240); do
    n=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -c '^DCGM_FI_DEV_GPU_TEMP{.* 52$' || true)
    if [ "$n" = 8 ]; then
      awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }' 
      return 0
    fi
    kill -0 "$agent_pid" 2>/dev/null || { cat "$work/agent.log" >&2; fail "the installed agent exited"; }
    sleep 0.25
  done
  cat "$work/agent.log" >&2
  fail "no complete /metrics within 60 s"
}
# POSTs to the agent with the token in file $1 (none when empty); prints the HTTP status. The token goes to curl
# on standard input (printf is a shell builtin), never on a command line.
post() {
  if [ -n "$1" ]; then
    printf 'Authorization: Bearer %s\n' "$(tr -d ' \t\r\n' < "$1")" \
      | curl -sS -o /dev/null -w '%{http_code}' -H @- -X POST "http://127.0.0.1:$port$2"
  else
    curl -sS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port$2"
  fi
}
stop_agent() {
  kill -TERM "$agent_pid"
  wait "$agent_pid" || true
  agent_pid=""
}

listener_pid=""
if command -v python3 >/dev/null; then
  # systemd's side of Type=notify: a unix datagram socket that records what the agent says.
  NOTIFY_SOCKET="$work/notify"
  python3 - "$NOTIFY_SOCKET" "$work/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        log.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
  listener_pid=$!
  sleep 0.5
fi

step "installed launcher on the fake driver, as user gpu-agent (Netty's epoll library from the package, not /tmp)"
[ -f /usr/lib/gpu-agent/native/libnetty_transport_native_epoll_x86_64.so ] || fail "no Netty epoll library in the package"
[ -z "$(ls /usr/lib/gpu-agent/app/lib/main | grep -i grpc)" ] \
  || fail "grpc-java is in the package; the kubelet's socket needs only the JDK (UnixGrpcCall)"
start_agent "-Dio.netty.native.workdir=$work"   # (not writable by gpu-agent)
secs=$(wait_metrics)
curl -fsS "http://127.0.0.1:$port/health" > "$work/health" || fail "/health does not answer 200: $(cat "$work/health")"
if [ -n "$listener_pid" ]; then
  grep -q '^READY=1 .*STATUS=8 GPUs' "$work/notify.log" || fail "no READY=1 with STATUS on the notify socket: $(cat "$work/notify.log")"
  step "notify socket: $(grep '^READY=1' "$work/notify.log" | head -1)"
fi
step "the unix socket /run/gpu-agent/http.sock: the agent's, and only root and the agent can open it"
[ -S /run/gpu-agent/http.sock ] || fail "no socket /run/gpu-agent/http.sock; log: $(tail -5 "$work/agent.log")"
[ "$(stat -c %U /run/gpu-agent/http.sock)" = gpu-agent ] || fail "http.sock belongs to $(stat -c %U /run/gpu-agent/http.sock)"
[ "$(curl -sS -o /dev/null -w '%{http_code}' --unix-socket /run/gpu-agent/http.sock http://localhost/health)" = 200 ] \
  || fail "/health over the unix socket is not 200"
setpriv --reuid=nobody --regid=nogroup --clear-groups curl -sS -o /dev/null --unix-socket /run/gpu-agent/http.sock \
  http://localhost/health 2>/dev/null && fail "user nobody reached the agent over its unix socket"
step "the Slurm health check, as slurmd runs it, over the socket"
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "NodeName=n1 State=IDLE"\n' > "$work/bin/scontrol"
chmod 755 "$work/bin/scontrol"
printf 'PATH=%s\nGPU_AGENT_SLURM_STATE=%s\n' "$work/bin" "$work/slurm-state" > "$work/slurm.env"
env -i SLURMD_NODENAME=n1 GPU_AGENT_SLURM_ENV="$work/slurm.env" /usr/share/gpu-agent/slurm/gpu-agent-healthcheck \
  || fail "the health check over the unix socket failed"
step "the agent takes the operator token for a cordon, and nothing else"
[ "$(post "" /v1/gpus/0/cordon)" = 401 ] || fail "a cordon without a token was not 401"
[ "$(post /etc/gpu-agent/scheduler-token /v1/gpus/0/cordon)" = 403 ] || fail "a cordon with the scheduler token was not 403"
[ "$(post /etc/gpu-agent/operator-token /v1/gpus/0/cordon)" = 200 ] || fail "a cordon with the operator token was not 200"
[ "$(post /etc/gpu-agent/operator-token /v1/gpus/0/uncordon)" = 200 ] || fail "an uncordon with the operator token was not 200"
stop_agent
step "/metrics complete ${secs}s after the launcher started (with the AOT cache)"
start_agent "-XX:AOTMode=off"
nocache=$(wait_metrics)
stop_agent
step "/metrics complete ${nocache}s after the launcher started (AOT cache off)"
ls /var/lib/gpu-agent/*.jsonl >/dev/null 2>&1 || fail "the agent wrote no state to /var/lib/gpu-agent"

step "privileged helper: installed root-owned, verified, not enabled; the agent's drop-in has no CAP_SYS_ADMIN"
helper=/usr/lib/gpu-agent/bin/gpu-agent-privileged
[ "$(stat -c %U:%G:%a "$helper")" = "root:root:755" ] || fail "$helper is $(stat -c %U:%G:%a "$helper")"
for u in gpu-agent-privileged.socket gpu-agent-privileged@.service; do
  [ -f "/usr/lib/systemd/system/$u" ] || fail "no /usr/lib/systemd/system/$u"
done
out=$(systemd-analyze verify --man=no /usr/lib/systemd/system/gpu-agent-privileged.socket \
  /usr/lib/systemd/system/gpu-agent-privileged@.service 2>&1 || true)
[ -z "$out" ] || fail "systemd-analyze verify on the helper's units: $out"
[ ! -e /etc/systemd/system/sockets.target.wants/gpu-agent-privileged.socket ] || fail "the helper's socket is enabled by itself"
if grep -q '^[^#]*CAP_SYS_ADMIN' /usr/share/gpu-agent/systemd/enforce.conf; then
  fail "enforce.conf grants the agent CAP_SYS_ADMIN"
fi
printf '#!/bin/sh\necho "$*" >> %s/smi.log\necho "All done."\n' "$work" > "$work/nvidia-smi"
chmod 755 "$work/nvidia-smi"
for request in "reset GPU-1; touch $work/pwned" 'reset $(touch '"$work"'/pwned)' "reboot GPU-8a4e6f10-0000-4c2b-9d3e-5f7a1b2c3d4e"; do
  answer=$(printf '%s\n' "$request" | GPU_AGENT_PRIVILEGED_NVIDIA_SMI="$work/nvidia-smi" "$helper" 2>/dev/null || true)
  case $answer in "refused 64 "*) ;; *) fail "the helper answered '$answer' to '$request'" ;; esac
done
[ ! -e "$work/smi.log" ] && [ ! -e "$work/pwned" ] || fail "a refused request ran something"

step "enforce mode with no capability: the agent refuses to start without the helper's socket"
start_agent "-Dgpu-agent.recovery.mode=enforce -Dgpu-agent.recovery.privileged-socket=$work/privileged.sock"
for _ in $(seq 1 240); do
  kill -0 "$agent_pid" 2>/dev/null || break
  sleep 0.25
done
kill -0 "$agent_pid" 2>/dev/null && fail "the enforce-mode agent started without the helper's socket"
agent_pid=""
grep -q "go through gpu-agent-privileged.*does not exist: start gpu-agent-privileged.socket" "$work/agent.log" \
  || { cat "$work/agent.log" >&2; fail "the refusal does not name the helper's socket"; }

# systemd's side of gpu-agent-privileged.socket (Accept=yes): root:gpu-agent 0660, one helper per connection
# as root, its standard input and output the connection.
python3 - "$work/privileged.sock" "$helper" "$work/nvidia-smi" <<'PY' &
import grp, os, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.chown(sys.argv[1], 0, grp.getgrnam("gpu-agent").gr_gid)
os.chmod(sys.argv[1], 0o660)
s.listen(8)
while True:
    c, _ = s.accept()
    subprocess.Popen([sys.argv[2]], stdin=c, stdout=c, env={"GPU_AGENT_PRIVILEGED_NVIDIA_SMI": sys.argv[3]})
    c.close()
PY
accept_pid=$!
sleep 0.5
step "enforce mode: the agent (user gpu-agent, no capability) resets GPU 0 through the helper (root)"
start_agent "-Dgpu-agent.recovery.mode=enforce -Dgpu-agent.recovery.privileged-socket=$work/privileged.sock"
wait_metrics >/dev/null
[ "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$agent_pid/status")" = 0000000000000000 ] \
  || fail "the enforce-mode agent holds capabilities: $(grep ^Cap "/proc/$agent_pid/status")"
[ "$(post /etc/gpu-agent/operator-token /v1/gpus/0/reset)" = 202 ] || fail "an operator reset of GPU 0 was not accepted"
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/v1/actions?gpu=0&limit=100" > "$work/actions" 2>/dev/null || true
  grep -q 'gpu-agent-privileged reset: \|"step":"reset"[^}]*"result":"\(rejected\|failed\|timed_out\)' "$work/actions" && break
  sleep 0.5
done
grep -q 'gpu-agent-privileged reset: ok (exit 0): All done.' "$work/actions" \
  || fail "no reset through the helper in the audit log: $(cat "$work/actions")"
grep -q '^--gpu-reset -i GPU-8a4e6f10-0000-4c2b-9d3e-5f7a1b2c3d4e$' "$work/smi.log" \
  || fail "the helper did not run nvidia-smi --gpu-reset for GPU 0: $(cat "$work/smi.log" 2>/dev/null)"
stop_agent
kill "$accept_pid"
accept_pid=""

step "upgrade to a newer version keeps state and conffile edits"
echo "marker" > /var/lib/gpu-agent/deb-test-marker
echo "# edited by deb-test" >> /etc/gpu-agent/agent.properties
echo "gpu-agent.auth.coordinator-token-file=/etc/gpu-agent/coordinator-token" >> /etc/gpu-agent/agent.properties
dpkg-deb -R "$deb" "$work/newer"
version=$(sed -n 's/^Version: //p' "$work/newer/DEBIAN/control")
sed -i "s/^Version: .*/Version: $version+1/" "$work/newer/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -b "$work/newer" "$work/newer.deb" >/dev/null
rm -rf "$work/newer"
# A drop-in copied from an older package (the agent held CAP_SYS_ADMIN): it keeps working, and the upgrade says so.
mkdir -p /etc/systemd/system/gpu-agent.service.d
printf '[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN CAP_KILL\nAmbientCapabilities=CAP_SYS_ADMIN CAP_KILL\n' \
  > /etc/systemd/system/gpu-agent.service.d/enforce.conf
dpkg -i "$work/newer.deb" | tee "$work/upgrade.log"
grep -q "enforce.conf still grants the agent CAP_SYS_ADMIN" "$work/upgrade.log" \
  || fail "the upgrade did not point out the old enforce.conf"
rm -rf /etc/systemd/system/gpu-agent.service.d
[ "$(dpkg-query -W -f '${Version}' gpu-agent)" = "$version+1" ] || fail "upgrade did not install $version+1"
[ -f /var/lib/gpu-agent/deb-test-marker ] || fail "upgrade lost /var/lib/gpu-agent"
grep -q "edited by deb-test" /etc/gpu-agent/agent.properties || fail "upgrade lost the conffile edit"
( cd /etc/gpu-agent && md5sum -c --quiet "$work/tokens" ) || fail "the upgrade changed a token"
check_token coordinator

step "a deleted conffile: upgrade and reconfigure go on, and create no credential"
rm /etc/gpu-agent/agent.properties
ls /etc/gpu-agent > "$work/etc-before"
dpkg -i "$work/newer.deb" > "$work/reinstall.log" 2>&1 || { cat "$work/reinstall.log" >&2; fail "reinstall with agent.properties deleted failed"; }
grep -q "agent.properties is missing" "$work/reinstall.log" || fail "postinst did not say agent.properties is missing: $(cat "$work/reinstall.log")"
if command -v dpkg-reconfigure >/dev/null; then
  dpkg-reconfigure gpu-agent > "$work/reconfigure.log" 2>&1 || { cat "$work/reconfigure.log" >&2; fail "dpkg-reconfigure with agent.properties deleted failed"; }
fi
[ ! -e /etc/gpu-agent/agent.properties ] || fail "postinst brought agent.properties back by itself"
ls /etc/gpu-agent | diff "$work/etc-before" - || fail "postinst created files with agent.properties deleted"
dpkg -i --force-confmiss "$work/newer.deb" >/dev/null
[ -f /etc/gpu-agent/agent.properties ] || fail "--force-confmiss did not bring agent.properties back"

step "dpkg -r keeps state and configuration"
dpkg -r gpu-agent
[ ! -e /usr/lib/gpu-agent ] || fail "/usr/lib/gpu-agent left after dpkg -r"
[ -f /var/lib/gpu-agent/deb-test-marker ] || fail "dpkg -r deleted the state directory"
[ -f /etc/gpu-agent/agent.properties ] || fail "dpkg -r deleted the conffiles"

step "dpkg -P leaves nothing behind but the system user"
dpkg -P gpu-agent
left=""
while read -r f; do
  # Every file goes, and every directory of ours; directories other packages share (/usr/lib, ...) stay.
  [ -e "$f" ] || [ -L "$f" ] || continue
  if [ ! -d "$f" ]; then
    left="$left $f"
  else
    case "$f" in */gpu-agent|*/gpu-agent/*) left="$left $f" ;; esac
  fi
done < "$work/files"
for f in /var/lib/gpu-agent /etc/gpu-agent /etc/systemd/system/multi-user.target.wants/gpu-agent.service \
         /etc/systemd/system/sockets.target.wants/gpu-agent-privileged.socket \
         /var/lib/systemd/deb-systemd-helper-enabled/gpu-agent.service.dsh-also \
         /var/lib/systemd/deb-systemd-helper-masked/gpu-agent.service; do
  [ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
[ -z "$left" ] || fail "left after purge:$left"
dpkg -s gpu-agent >/dev/null 2>&1 && fail "dpkg still knows gpu-agent after purge"
step "PASS (the system user gpu-agent stays, as Debian practice keeps system users)"
