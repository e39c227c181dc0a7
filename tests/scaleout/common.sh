# Shared by sshd.sh and slurm.sh: the state directory, free ports, bounded
# waits and stopping a daemon by the pid it wrote. Sourced, not run.

# The state directory: the script's second argument, else $PPOOL_SCALEOUT_DIR,
# else build/scaleout in the source tree. Made absolute.
scaleout_state_dir() {
    local dir=${1:-${PPOOL_SCALEOUT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/scaleout}}
    mkdir -p "$dir"
    (cd "$dir" && pwd)
}

# Why this machine cannot run the engine, or nothing when it can. $@: the
# programs it needs.
scaleout_unavailable() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs root to start it (as root: bash $0 start ${state:-})"
        return
    fi
    local program
    for program in "$@"; do
        if [ ! -x "$program" ] && ! command -v "$program" >/dev/null 2>&1; then
            echo "$program is not installed (apt-get install \$(cat packages.txt))"
            return
        fi
    done
}

# A TCP port on 127.0.0.1 that nothing listens on now.
scaleout_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs "$@" until it succeeds, at most $1 seconds (polling every 0.1 s).
scaleout_wait_until() {
    local seconds=$1
    shift
    local tries=$((seconds * 10))
    while [ "$tries" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# Whether the process whose pid is in file $1 is running.
scaleout_running() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Stops the process whose pid is in file $1: SIGTERM, then SIGKILL if it is
# still there after $2 seconds (default 10). Its children go with it when $3
# is "children" (sshd's per-connection processes).
scaleout_stop_pidfile() {
    local file=$1 grace=${2:-10} children=${3:-}
    scaleout_running "$file" || { rm -f "$file"; return 0; }
    local pid kids
    pid=$(cat "$file")
    kids=""
    [ "$children" = children ] && kids=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" $kids 2>/dev/null || true
    if ! scaleout_wait_until "$grace" sh -c "! kill -0 $pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for kid in $kids; do kill -KILL "$kid" 2>/dev/null || true; done
    rm -f "$file"
}
