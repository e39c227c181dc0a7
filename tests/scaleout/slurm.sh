#!/usr/bin/env bash
# A real one-node Slurm cluster (slurmctld and slurmd) for the remote-worker tests.
#
#   tests/scaleout/slurm.sh start [STATE_DIR]   start it (as root); a second start is a no-op
#   tests/scaleout/slurm.sh stop  [STATE_DIR]   cancel its jobs and stop both daemons
#   tests/scaleout/slurm.sh env   [STATE_DIR]   print SLURM_CONF=..., for a client command
#   tests/scaleout/slurm.sh status [STATE_DIR]  exit 0 when the node is idle or in use
#
# STATE_DIR defaults to $PPOOL_SCALEOUT_DIR, else build/scaleout; the cluster
# lives in its subdirectory slurm/. Nothing is exported: a client command
# needs SLURM_CONF=STATE_DIR/slurm/slurm.conf, e.g.
#
#   SLURM_CONF=build/scaleout/slurm/slurm.conf salloc -N1 srun -n1 hostname
#
# The node is "localhost" with 4 CPUs (more than this machine may have: the
# configuration wins), no cgroups, no munge (auth/none), its own ports.
# When the cluster cannot be started here (not root, Slurm not installed),
# start writes the reason to STATE_DIR/slurm/unavailable and exits 0, so that
# the tests can skip with that reason; any other failure exits 1.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command=${1:-}
state=$(scaleout_state_dir "${2:-}")
dir=$state/slurm
export SLURM_CONF=$dir/slurm.conf

node_ready() {
    local node_state
    node_state=$(sinfo -h -N -n localhost -o %T 2>/dev/null) || return 1
    case "$node_state" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
    esac
}

write_config() {
    cat >"$SLURM_CONF" <<CONFIG
ClusterName=ppooltest
SlurmctldHost=localhost
SlurmctldPort=$(scaleout_free_port)
SlurmdPort=$(scaleout_free_port)
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
# The node may claim more CPUs than the machine has.
SlurmdParameters=config_overrides
# A test's jobs and steps end promptly.
KillWait=5
MinJobAge=2
NodeName=localhost CPUs=4 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONFIG
}

start() {
    rm -f "$dir/unavailable"
    if scaleout_running "$dir/slurmctld.pid" && scaleout_running "$dir/slurmd.pid" && node_ready; then
        echo "slurm: already running (SLURM_CONF=$SLURM_CONF)"
        return
    fi
    local reason
    reason=$(scaleout_unavailable /usr/sbin/slurmctld /usr/sbin/slurmd sinfo srun salloc python3)
    if [ -n "$reason" ]; then
        echo "$reason" >"$dir/unavailable"
        echo "slurm: not started: $reason"
        return
    fi
    stop_daemons
    rm -rf "$dir/state" "$dir/spool"
    mkdir -p "$dir/state" "$dir/spool"
    write_config
    # Their own sessions, and no descriptor of ours: a test runner waits for
    # the pipes it gave this script to close. In the foreground (-D) they log
    # to stderr.
    setsid /usr/sbin/slurmctld -D -i </dev/null >>"$dir/slurmctld.log" 2>&1 &
    setsid /usr/sbin/slurmd -D </dev/null >>"$dir/slurmd.log" 2>&1 &
    if ! scaleout_wait_until 60 node_ready; then
        echo "slurm: the node did not become idle ($dir); the logs:" >&2
        tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
        sinfo -N >&2 || true
        stop_daemons
        exit 1
    fi
    echo "slurm: running, node localhost idle (SLURM_CONF=$SLURM_CONF)"
}

stop_daemons() {
    if scaleout_running "$dir/slurmctld.pid"; then
        scancel --quiet --full --signal=KILL --partition=test 2>/dev/null || true
    fi
    scaleout_stop_pidfile "$dir/slurmd.pid"
    scaleout_stop_pidfile "$dir/slurmctld.pid"
}

case "$command" in
start) mkdir -p "$dir"; start ;;
stop) stop_daemons; echo "slurm: stopped ($dir)" ;;
status) scaleout_running "$dir/slurmctld.pid" && scaleout_running "$dir/slurmd.pid" && node_ready ;;
env) printf 'SLURM_CONF=%q\n' "$SLURM_CONF" ;;
*)
    echo "usage: $0 start|stop|status|env [STATE_DIR]" >&2
    exit 2
    ;;
esac
