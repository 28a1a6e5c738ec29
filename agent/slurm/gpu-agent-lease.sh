# Shared by gpu-agent-healthcheck, gpu-agent-prolog and gpu-agent-epilog (sourced, not run). POSIX sh, curl only
# (no jq). Sets PATH, reads the settings file, and defines the helpers; lease_setup is for the prolog and epilog.
#
# slurmd runs the health check with no environment but SLURMD_NODENAME (no PATH), and the prolog and epilog with
# Slurm's job variables only, so the settings come from a file: GPU_AGENT_SLURM_ENV, default
# /etc/gpu-agent/slurm.env. It holds KEY=value lines (# comments; a value may be quoted); it is read, never run.
# A variable already in the environment wins over the file. See docs/slurm.md.
me=${0##*/}

# Shells disagree on what an unset PATH means; name the usual places (the settings file may add its own first).
PATH=${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

settings=${GPU_AGENT_SLURM_ENV:-/etc/gpu-agent/slurm.env}
known="GPU_AGENT_URL GPU_AGENT_SOCKET GPU_AGENT_USER GPU_AGENT_NODE GPU_AGENT_TOKEN_FILE GPU_AGENT_SLURM_STATE GPU_AGENT_LEASE_TTL GPU_AGENT_TIMEOUT GPU_AGENT_RESUME GPU_AGENT_FAIL_THRESHOLD GPU_AGENT_SLURM_JOB_ENV SLURM_CONF"
from_env=" "
for key in $known; do
    eval "[ -z \"\${$key+set}\" ]" || from_env="$from_env$key "
done
# owned_by_us PATH TYPE: PATH is a TYPE (f file, d directory), not a link, owned by root or by whoever runs us
# (slurmd runs us as root), and writable by its owner only. find(1) -user/-perm are POSIX; stat -c is not.
owned_by_us() {
    [ ! -L "$1" ] && [ -n "$(find "$1" -prune -type "$2" \( -user 0 -o -user "$(id -u)" \) ! -perm -020 ! -perm -002 2>/dev/null)" ]
}

if [ -e "$settings" ] || [ -L "$settings" ]; then
    # Whoever can write this file chooses where the token goes and which node gets resumed: root only.
    owned_by_us "$settings" f || {
        echo "$me: refusing the settings file $settings: it must be a file (not a link) owned by root and writable by root only; fix: chown root:root $settings && chmod 0644 $settings" >&2
        exit 2
    }
    [ -r "$settings" ] || { echo "$me: cannot read the settings file $settings; make it readable by root" >&2; exit 2; }
    n=0
    while read -r line || [ -n "$line" ]; do   # (read strips blanks at both ends)
        n=$((n + 1))
        case "$line" in ''|'#'*) continue ;; esac
        key=${line%%=*}
        value=${line#*=}
        # (The line itself is not logged: a misplaced secret would land in slurmd's log.)
        case "$line" in [A-Za-z_]*=*) ;; *) key="" ;; esac
        case "$key" in ''|*[!A-Za-z0-9_]*) echo "$me: $settings: ignoring line $n (not KEY=value)" >&2; continue ;; esac
        case "$value" in \"*\") value=${value#\"}; value=${value%\"} ;; \'*\') value=${value#\'}; value=${value%\'} ;; esac
        case " $known " in
            *" $key "*)
                # $key is one of $known, so eval only ever assigns that variable; the environment's value stays.
                case "$from_env" in *" $key "*) ;; *) eval "$key=\$value"; export "$key" ;; esac ;;
            *)
                if [ "$key" = PATH ]; then PATH=$value:$PATH
                else echo "$me: $settings: ignoring unknown setting $key (see docs/slurm.md)" >&2
                fi ;;
        esac
    done < "$settings"
fi

# The name Slurm knows this node by: slurmd passes it; it can differ from the host name.
node=${GPU_AGENT_NODE:-${SLURMD_NODENAME:-$(hostname -s)}}
state_dir=${GPU_AGENT_SLURM_STATE:-/run/gpu-agent-slurm}
# The prolog's notes for gpu-agent-taskprolog, which runs as the job's user: so not in root's $state_dir.
job_env_dir=${GPU_AGENT_SLURM_JOB_ENV:-/run/gpu-agent-slurm-env}

fail() { echo "$me: $*" >&2; exit 1; }

# How we reach the agent, and how we know it is the agent (docs/slurm.md, "Talking to the agent"). Any local user
# can listen on a TCP port the agent is not holding (while it restarts, say): such a listener must get no token
# and its answers must not be believed. So: the agent's unix socket when it is there (only root and the agent's
# user can create anything in its directory); else GPU_AGENT_URL, and for a local address only when every
# listener on its port belongs to the agent's user.
agent_user=${GPU_AGENT_USER:-gpu-agent}
socket=${GPU_AGENT_SOCKET:-/run/gpu-agent/http.sock}
if [ -n "${GPU_AGENT_URL:-}" ]; then
    via=tcp; url=$GPU_AGENT_URL; where=$url
elif [ -e "$socket" ] || [ -L "$socket" ]; then
    via=unix; url=http://localhost; where="unix:$socket"
else
    via=tcp; url=http://127.0.0.1:9400; where=$url
fi

# agent_check: whether what $url or $socket reaches now is the agent; when not, why in $agent_problem and
# $impostor=1 when something else holds the agent's place (not merely an agent that is down).
agent_check() {
    agent_problem=""; impostor=0
    agent_uid=$(id -u "$agent_user" 2>/dev/null) || {
        agent_problem="no user $agent_user on this host (set GPU_AGENT_USER in $settings to the agent's user)"; return 1; }
    if [ "$via" = unix ]; then
        sdir=$(dirname "$socket")
        # The directory first: whoever may write it could swap the socket after we looked.
        if [ -L "$sdir" ] || [ -z "$(find "$sdir" -prune -type d \( -user 0 -o -user "$agent_uid" \) ! -perm -020 ! -perm -002 2>/dev/null)" ]; then
            agent_problem="$sdir is not a directory that only root and $agent_user can write; not using $socket (check: ls -ld $sdir)"
            impostor=1; return 1
        fi
        if [ -L "$socket" ] || [ -z "$(find "$socket" -prune -type s -user "$agent_uid" 2>/dev/null)" ]; then
            agent_problem="$socket is not a socket owned by $agent_user; not using it (check: ls -l $socket)"
            impostor=1; return 1
        fi
        return 0
    fi
    hostport=${url#*://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
    case "$hostport" in
        \[*\]:*) host=${hostport%]:*}]; port=${hostport##*]:} ;;
        \[*\]) host=$hostport; port="" ;;
        *:*) host=${hostport%:*}; port=${hostport##*:} ;;
        *) host=$hostport; port="" ;;
    esac
    [ -n "$port" ] || case "$url" in https:*) port=443 ;; *) port=80 ;; esac
    case "$host" in
        localhost|localhost.*|127.*|\[::1\]|\[0:0:0:0:0:0:0:1\]|\[::ffff:127.*|0.0.0.0|\[::\]) ;;
        *) [ "$host" = "$(hostname -s 2>/dev/null)" ] || [ "$host" = "$(hostname -f 2>/dev/null)" ] || [ "$host" = "$node" ] \
               || return 0 ;;   # another host: its identity is TLS's business (docs/slurm.md)
    esac
    command -v ss >/dev/null 2>&1 || { agent_problem="ss not found (install iproute2): cannot tell who listens on port $port"; return 1; }
    listeners=$(ss -Hltne "sport = :$port" 2>/dev/null) || { agent_problem="ss failed; cannot tell who listens on port $port"; return 1; }
    [ -n "$listeners" ] || { agent_problem="agent not answering at $where (nothing listens on port $port); check: systemctl status gpu-agent"; return 1; }
    # ss prints uid:N for every owner but root.
    for uid in $(printf '%s\n' "$listeners" | sed -e 's/.* uid:\([0-9]*\).*/\1/' -e t -e 's/.*/0/'); do
        [ "$uid" = "$agent_uid" ] && continue
        agent_problem="a process of uid $uid, not the agent's user $agent_user, listens on port $port; not talking to it (check: ss -ltnpe 'sport = :$port')"
        impostor=1; return 1
    done
    return 0
}

# agent_curl ARGS...: curl to the agent by the chosen transport.
agent_curl() {
    if [ "$via" = unix ]; then curl --unix-socket "$socket" "$@"; else curl "$@"; fi
}

# state_setup: the directory for lease notes and the health check's failure count: root's alone, since what is
# in it decides what gets released and when a node drains.
state_setup() {
    (umask 077 && mkdir -p "$state_dir") 2>/dev/null
    owned_by_us "$state_dir" d || {
        echo "$me: $state_dir (GPU_AGENT_SLURM_STATE) must be a directory (not a link) owned by root and writable by root only; fix: chown root:root $state_dir && chmod 0700 $state_dir" >&2
        exit 2
    }
}

# job_env_setup: the directory of the prolog's notes for the task prolog (mode 0755: the job's user reads its
# job's note there; only root writes).
job_env_setup() {
    (umask 022 && mkdir -p "$job_env_dir") 2>/dev/null
    owned_by_us "$job_env_dir" d || {
        echo "$me: $job_env_dir (GPU_AGENT_SLURM_JOB_ENV) must be a directory (not a link) owned by root and writable by root only; fix: chown root:root $job_env_dir && chmod 0755 $job_env_dir" >&2
        exit 2
    }
}

# slurm_devices < the answer of GET /v1/gpus: the node's devices in the order slurmd numbers them (SLURM_JOB_GPUS)
# when gres.conf is written as docs/slurm.md says (gpu-agent-gres-conf prints it), one a line:
#   UUID TYPE DEVICE GI CI
# (GI, CI: a MIG device's GPU and compute instance ids, "-" for a whole GPU). Without a GPU in MIG mode: the GPUs by
# index, TYPE "-" (gres.conf lists /dev/nvidiaN in NVML order, untyped). With one: every MIG device and every GPU not
# in MIG mode, typed as slurmd's NVML autodetect types them (gpu_nvml.c: a MIG device <slices>g.<GB>gb after its
# GPU instance's slices and memory, MiB/1024 rounded; a GPU its name, lower case, blanks as underscores), ordered
# by type (slurmd takes slurm.conf's Gres= types in order, and gres.conf's lines of each type in order: both list
# the types sorted), then GPU index, GPU instance and compute instance (the agent's order). A GPU in MIG mode stands
# for its MIG devices (none while it has none). In that answer each key read here comes first after the "uuid" of
# its GPU or MIG device; a GPU's "mig_mode" reading before its MIG devices (docs/api.md, "GPUs").
slurm_devices() {
    tr -d '\n' | tr ',' '\n' | sed -n \
        -e 's/.*"uuid":"\([^"]*\)".*/uuid \1/p' -e 's/.*"name":"\([^"]*\)".*/name \1/p' \
        -e 's/.*"device":"\([^"]*\)".*/device \1/p' -e 's/.*"mig_mode":\([0-9.]*\).*/mig \1/p' \
        -e 's/.*"gpuInstanceId":\([0-9]*\).*/gi \1/p' -e 's/.*"computeInstanceId":\([0-9]*\).*/ci \1/p' \
        -e 's/.*"slices":\([0-9]*\).*/slices \1/p' -e 's/.*"memoryMib":\([0-9]*\).*/mem \1/p' | awk '
        function flush() {
            if (kind == "mig") {
                n++; uuid[n] = id; type[n] = slices "g." int(mem / 1024 + 0.5) "gb"; dev[n] = gdev; gi[n] = g; ci[n] = c
            } else if (kind == "gpu" && !inmig) {
                n++; uuid[n] = id; type[n] = tolower(gname); gsub(/ /, "_", type[n]); dev[n] = gdev; gi[n] = "-"; ci[n] = "-"
            }
        }
        $1 == "uuid" {
            if ($2 ~ /^MIG-/ && kind == "gpu") { inmig = 1; anymig = 1 }   # a GPU with MIG devices is in MIG mode
            flush()
            id = $2; g = c = slices = mem = ""
            if ($2 ~ /^MIG-/) kind = "mig"
            else { kind = "gpu"; inmig = 0; gname = gdev = "" }
            next
        }
        kind == "gpu" && $1 == "name" && gname == "" { gname = substr($0, 6) }
        kind == "gpu" && $1 == "device" && gdev == "" { gdev = $2 }
        kind == "gpu" && $1 == "mig" && $2 + 0 == 1 { inmig = 1; anymig = 1 }
        kind == "mig" && $1 == "gi" && g == "" { g = $2 }
        kind == "mig" && $1 == "ci" && c == "" { c = $2 }
        kind == "mig" && $1 == "slices" && slices == "" { slices = $2 }
        kind == "mig" && $1 == "mem" && mem == "" { mem = $2 }
        END {
            flush()
            for (i = 1; i <= n; i++) print (anymig ? type[i] : "-"), i, uuid[i], (anymig ? type[i] : "-"), dev[i], gi[i], ci[i]
        }' | LC_ALL=C sort -k1,1 -k2,2n | cut -d' ' -f3-
}

# private_tmp: a private directory for answers (mode 0700, removed on exit): never a guessable name in /tmp.
private_tmp() {
    tmp=$(mktemp -d) || { echo "$me: mktemp -d failed" >&2; exit 2; }
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 1' HUP INT TERM
}

# json_string NAME < json: the first string value of NAME, unescaped enough for a log line (\" becomes ').
json_string() {
    tr -d '\n' | sed -n 's/.*"'"$1"'":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | head -n 1 | sed 's/\\"/'"'"'/g; s/\\\\/\\/g'
}

# json_field NAME < json: the first string or number value of NAME, for values without commas (ids, numbers).
json_field() {
    tr -d '\n' | sed -n 's/.*"'"$1"'":"\{0,1\}\([^",}]*\).*/\1/p' | head -n 1
}

# lease_setup: what the prolog and epilog need besides the above.
lease_setup() {
    # The scheduler credential (docs/security.md); the old single token where no scheduler file exists yet.
    token_file=${GPU_AGENT_TOKEN_FILE:-}
    if [ -z "$token_file" ]; then
        token_file=/etc/gpu-agent/scheduler-token
        [ -e "$token_file" ] || token_file=/etc/gpu-agent/token
    fi
    timeout=${GPU_AGENT_TIMEOUT:-10}
    job=${SLURM_JOB_ID:-}
    [ -n "$job" ] || { echo "$me: SLURM_JOB_ID is not set; run me as a Slurm Prolog/Epilog" >&2; exit 2; }
    command -v curl >/dev/null 2>&1 || fail "curl not found; install curl"
    [ -r "$token_file" ] || fail "cannot read the scheduler credential $token_file; set GPU_AGENT_TOKEN_FILE in $settings"
    token=$(tr -d ' \t\r\n' < "$token_file")
    # The token goes into a curl config line (below): a quote or backslash would end or bend that line.
    case "$token" in
        '') fail "the token file $token_file is empty" ;;
        *[\"\\]*) fail "the token in $token_file holds a quote or backslash, which a bearer token cannot have" ;;
    esac
    state_setup
    private_tmp
    lease_file="$state_dir/slurm-$job.lease"
    job_id="slurm-$job"
}

# call METHOD PATH [BODY]: sets $status (HTTP code, 000 when unreachable or not the agent) and $body (the answer).
# The token reaches curl on its standard input as a config line, never as an argument: every local user can read
# /proc/<pid>/cmdline. printf is a shell builtin (dash, bash, busybox), so it starts no process either. Nothing is
# sent before agent_check says the listener is the agent.
call() {
    body=""
    if ! agent_check; then
        echo "$me: $agent_problem" >&2
        status=000
        [ "$impostor" = 1 ] && fail "not the agent at $where: sent nothing"
        return 0
    fi
    rm -f "$tmp/answer"
    if [ $# -ge 3 ]; then
        status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | agent_curl -sS -K - -o "$tmp/answer" -w '%{http_code}' \
            --max-time "$timeout" -X "$1" -H 'Content-Type: application/json' --data "$3" "$url$2") || status=000
    else
        status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | agent_curl -sS -K - -o "$tmp/answer" -w '%{http_code}' \
            --max-time "$timeout" -X "$1" "$url$2") || status=000
    fi
    [ -f "$tmp/answer" ] && body=$(cat "$tmp/answer")
    return 0
}
