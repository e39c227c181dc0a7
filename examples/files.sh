#!/usr/bin/env bash
# Files of a tree, in parallel, whatever their names: find's NUL-separated
# list goes to ppool with -0, so a name with spaces, quotes or a newline is an
# item like any other, and commands run with no shell, so a name is never code.
# Prints the lines, words and bytes of every *.txt file (the built-in wc task:
# no process per file) with a total, then gzips them, keeping the originals.
#
#   PPOOL=build/ppool examples/files.sh DIR
set -euo pipefail
ppool=${PPOOL:-ppool}
dir=${1:?usage: files.sh DIR}

# In input order (sorted names), as wc prints them, then the total.
find "$dir" -type f -name '*.txt' -print0 | sort -z |
  "$ppool" imap -0 --task wc |
  awk '{ print; lines += $1; words += $2; bytes += $3 } END { print lines, words, bytes, "total" }'

# One gzip per file, in whatever order they finish.
find "$dir" -type f -name '*.txt' -print0 | "$ppool" imap-unordered -0 -- gzip -k -f {}
echo "compressed: $(find "$dir" -type f -name '*.txt.gz' -printf . | wc -c) files"
