# Shared by gpu-agent-prolog and gpu-agent-epilog (sourced, not run). POSIX sh, curl only (no jq).
url=${GPU_AGENT_URL:-http://127.0.0.1:9400}
token_file=${GPU_AGENT_TOKEN_FILE:-/etc/gpu-agent/token}
state_dir=${GPU_AGENT_SLURM_STATE:-/run/gpu-agent/slurm}
timeout=${GPU_AGENT_TIMEOUT:-10}
job=${SLURM_JOB_ID:-}
me=$(basename "$0")

fail() { echo "$me: $*" >&2; exit 1; }

[ -n "$job" ] || { echo "$me: SLURM_JOB_ID is not set; run me as a Slurm Prolog/Epilog" >&2; exit 2; }
command -v curl >/dev/null 2>&1 || fail "curl not found; install curl"
[ -r "$token_file" ] || fail "cannot read the agent's token file $token_file; set GPU_AGENT_TOKEN_FILE"
token=$(tr -d ' \n' < "$token_file")
lease_file="$state_dir/slurm-$job.lease"
job_id="slurm-$job"

# call METHOD PATH [BODY]: sets $status (HTTP code, 000 when unreachable) and $body (the answer).
call() {
    out=$(mktemp) || fail "mktemp failed"
    if [ $# -ge 3 ]; then
        status=$(curl -sS -o "$out" -w '%{http_code}' --max-time "$timeout" -X "$1" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' --data "$3" "$url$2") || status=000
    else
        status=$(curl -sS -o "$out" -w '%{http_code}' --max-time "$timeout" -X "$1" -H "Authorization: Bearer $token" \
            "$url$2") || status=000
    fi
    body=$(cat "$out")
    rm -f "$out"
}

# json_field NAME < json: the first string or number value of NAME (flat, no jq).
json_field() {
    tr -d '\n' | sed -n 's/.*"'"$1"'":"\{0,1\}\([^",}]*\).*/\1/p' | head -n 1
}
