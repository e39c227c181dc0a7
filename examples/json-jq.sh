#!/usr/bin/env bash
# ppool's JSON Lines taken apart with jq: digests of the files named on the
# command line (or one per line on stdin), the successes as "digest<TAB>name"
# on stdout, and a summary of the failures, with their reasons, on stderr.
# Each JSON object carries seq, input, ok, status, output, error, duration_s...
# so nothing has to be parsed out of free text. Exit status: ppool's.
#
#   PPOOL=build/ppool examples/json-jq.sh FILE...
#   find . -name '*.cpp' | examples/json-jq.sh
set -euo pipefail
ppool=${PPOOL:-ppool}

results=$(mktemp)
trap 'rm -f "$results"' EXIT

# One object per item, in input order; status 1 only says that some failed.
status=0
if [ $# -gt 0 ]; then
  printf '%s\n' "$@" | "$ppool" imap --json --task sha256sum >"$results" || status=$?
else
  "$ppool" imap --json --task sha256sum >"$results" || status=$?
fi

jq -r 'select(.ok) | "\(.output[:64])\t\(.input)"' "$results"
jq -rs '[.[] | select(.ok | not)]
        | if length == 0 then "no failures"
          else "\(length) failed:", (.[] | "  #\(.seq) \(.input): \(.error // .status)") end' "$results" >&2
exit "$status"
