#!/usr/bin/env bash
# A real OpenSSH server on 127.0.0.1 for the remote-worker tests.
#
#   tests/scaleout/sshd.sh start [STATE_DIR]   start it (as root); a second start is a no-op
#   tests/scaleout/sshd.sh stop  [STATE_DIR]   stop it and what it serves
#   tests/scaleout/sshd.sh env   [STATE_DIR]   print the variables a test uses, as shell assignments
#   tests/scaleout/sshd.sh status [STATE_DIR]  exit 0 when a login works
#
# STATE_DIR defaults to $PPOOL_SCALEOUT_DIR, else build/scaleout; the server's
# files are in its subdirectory sshd/. Logins are as the user ppooltest (shell
# /bin/sh, made on first start) with a key of the state directory, through
# the client configuration STATE_DIR/sshd/ssh_config:
#
#   ssh -F STATE_DIR/sshd/ssh_config ppooltest@127.0.0.1 true
#
# When the server cannot be started here (not root, sshd not installed),
# start writes the reason to STATE_DIR/sshd/unavailable and exits 0, so that
# the tests can skip with that reason; any other failure exits 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

user=ppooltest
command=${1:-}
state=$(scaleout_state_dir "${2:-}")
dir=$state/sshd

login() {
    ssh -F "$dir/ssh_config" -T "$user@127.0.0.1" true </dev/null
}

make_user() {
    if ! id -u "$user" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/sh --comment "ppool remote-worker tests" "$user"
    fi
    # useradd leaves the account locked, and with UsePAM no sshd refuses even
    # a key to a locked account: '*' unlocks it and still allows no password.
    usermod -p '*' "$user"
    local home
    home=$(getent passwd "$user" | cut -d: -f6)
    install -d -m 700 -o "$user" -g "$user" "$home/.ssh"
    touch "$home/.ssh/authorized_keys"
    # Several state directories (build trees) may serve the same user.
    grep -qxF "$(cat "$dir/client_key.pub")" "$home/.ssh/authorized_keys" ||
        cat "$dir/client_key.pub" >>"$home/.ssh/authorized_keys"
    chown "$user:$user" "$home/.ssh/authorized_keys"
    chmod 600 "$home/.ssh/authorized_keys"
}

make_keys() {
    [ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "ppool test host" -f "$dir/host_key"
    [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C "ppool test client" -f "$dir/client_key"
}

write_configs() {
    local port=$1
    cat >"$dir/sshd_config" <<CONFIG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
PrintMotd no
PrintLastLog no
# ControlMaster sessions and parallel logins reach the defaults (10) at once.
MaxSessions 64
MaxStartups 100:30:200
LogLevel INFO
CONFIG
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
    cat >"$dir/ssh_config" <<CONFIG
Host *
    Port $port
    User $user
    IdentityFile $dir/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
CONFIG
    echo "$port" >"$dir/port"
}

start() {
    rm -f "$dir/unavailable"
    if scaleout_running "$dir/sshd.pid" && login; then
        echo "sshd: already running on 127.0.0.1:$(cat "$dir/port") ($dir)"
        return
    fi
    local reason
    reason=$(scaleout_unavailable /usr/sbin/sshd ssh ssh-keygen useradd python3)
    if [ -n "$reason" ]; then
        echo "$reason" >"$dir/unavailable"
        echo "sshd: not started: $reason"
        return
    fi
    scaleout_stop_pidfile "$dir/sshd.pid"
    make_keys
    make_user
    # sshd's privilege separation directory.
    install -d -m 755 /run/sshd
    local attempt
    for attempt in 1 2 3; do
        write_configs "$(scaleout_free_port)"
        /usr/sbin/sshd -t -f "$dir/sshd_config"
        # Its own session, and no descriptor of ours: a test runner waits for
        # the pipes it gave this script to close.
        setsid /usr/sbin/sshd -D -e -f "$dir/sshd_config" </dev/null >>"$dir/sshd.log" 2>&1 &
        if scaleout_wait_until 30 login; then
            echo "sshd: running on 127.0.0.1:$(cat "$dir/port") ($dir)"
            return
        fi
        # The port may have been taken between the choice and the bind.
        scaleout_stop_pidfile "$dir/sshd.pid" 5
        echo "sshd: attempt $attempt failed; its log:" >&2
        tail -n 20 "$dir/sshd.log" >&2 || true
    done
    echo "sshd: cannot start a server that accepts a login ($dir)" >&2
    exit 1
}

stop() {
    scaleout_stop_pidfile "$dir/sshd.pid" 10 children
    echo "sshd: stopped ($dir)"
}

case "$command" in
start) mkdir -p "$dir"; start ;;
stop) stop ;;
status) scaleout_running "$dir/sshd.pid" && login ;;
env)
    printf 'PPOOL_TEST_SSH_CONFIG=%q\nPPOOL_TEST_SSH_USER=%q\nPPOOL_TEST_SSH_HOST=127.0.0.1\n' \
        "$dir/ssh_config" "$user"
    ;;
*)
    echo "usage: $0 start|stop|status|env [STATE_DIR]" >&2
    exit 2
    ;;
esac
