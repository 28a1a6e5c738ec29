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
known="GPU_AGENT_URL GPU_AGENT_NODE GPU_AGENT_TOKEN_FILE GPU_AGENT_SLURM_STATE GPU_AGENT_LEASE_TTL GPU_AGENT_TIMEOUT GPU_AGENT_RESUME SLURM_CONF"
from_env=" "
for key in $known; do
    eval "[ -z \"\${$key+set}\" ]" || from_env="$from_env$key "
done
if [ -e "$settings" ]; then
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

url=${GPU_AGENT_URL:-http://127.0.0.1:9400}
# The name Slurm knows this node by: slurmd passes it; it can differ from the host name.
node=${GPU_AGENT_NODE:-${SLURMD_NODENAME:-$(hostname -s)}}

fail() { echo "$me: $*" >&2; exit 1; }

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
    state_dir=${GPU_AGENT_SLURM_STATE:-/run/gpu-agent/slurm}
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
    lease_file="$state_dir/slurm-$job.lease"
    job_id="slurm-$job"
}

# call METHOD PATH [BODY]: sets $status (HTTP code, 000 when unreachable) and $body (the answer).
# The token reaches curl on its standard input as a config line, never as an argument: every local user can read
# /proc/<pid>/cmdline. printf is a shell builtin (dash, bash, busybox), so it starts no process either.
call() {
    out=$(mktemp) || fail "mktemp failed"
    if [ $# -ge 3 ]; then
        status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | curl -sS -K - -o "$out" -w '%{http_code}' \
            --max-time "$timeout" -X "$1" -H 'Content-Type: application/json' --data "$3" "$url$2") || status=000
    else
        status=$(printf 'header = "Authorization: Bearer %s"\n' "$token" | curl -sS -K - -o "$out" -w '%{http_code}' \
            --max-time "$timeout" -X "$1" "$url$2") || status=000
    fi
    body=$(cat "$out")
    rm -f "$out"
}
