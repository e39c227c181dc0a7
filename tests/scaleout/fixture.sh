#!/usr/bin/env bash
# The test suite's own start and stop of the real engines (ctest runs these
# as the fixture of the tests that need them), so that the README's test
# command needs no step before it:
#
#   tests/scaleout/fixture.sh setup STATE_DIR     start sshd and Slurm unless already running
#   tests/scaleout/fixture.sh cleanup STATE_DIR   stop those that setup started
#
# An engine that was running before setup (started by .ci/run, or by hand
# with sshd.sh / slurm.sh) is left running by cleanup. When neither can be
# started here (not root, packages missing), setup exits 77, which ctest
# shows as skipped, and the tests that need them skip with the reason.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command=${1:-}
state=${2:?usage: $0 setup|cleanup STATE_DIR}

setup() {
    local engine unavailable=0 failed=0
    for engine in sshd slurm; do
        local dir=$state/$engine
        if bash "$here/$engine.sh" status "$state" >/dev/null 2>&1; then
            echo "$engine: already running; left running after the tests"
            continue
        fi
        if ! bash "$here/$engine.sh" start "$state"; then
            failed=1
            continue
        fi
        if [ -f "$dir/unavailable" ]; then
            unavailable=1
        else
            touch "$dir/started-by-tests"
        fi
    done
    [ "$failed" -eq 0 ] || exit 1
    [ "$unavailable" -eq 0 ] || exit 77
}

cleanup() {
    local engine
    for engine in sshd slurm; do
        local dir=$state/$engine
        if [ -f "$dir/started-by-tests" ]; then
            bash "$here/$engine.sh" stop "$state"
            rm -f "$dir/started-by-tests"
        fi
    done
}

case "$command" in
setup) setup ;;
cleanup) cleanup ;;
*)
    echo "usage: $0 setup|cleanup STATE_DIR" >&2
    exit 2
    ;;
esac
