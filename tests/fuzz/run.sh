#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time on a copy of
# its seed corpus, so the repository is never written to.
#
#   bash tests/fuzz/run.sh [BUILD_DIR]     (default: build-fuzz at the repo root)
#   FUZZ_SECONDS=60 bash tests/fuzz/run.sh
#
# Prints one summary line per target and exits non-zero if any target crashed,
# timed out or ran out of memory; its reproducer is kept in
# BUILD_DIR/fuzz-artifacts/<target>/ (replay it: BUILD_DIR/<target> FILE).
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-30}
targets=(fuzz_protocol fuzz_template fuzz_splitter fuzz_client)

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (install clang and libclang-rt-14-dev)" >&2; exit 2; }

# Configure once with clang; later runs reuse the cache.
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build "$build" --target "${targets[@]}"
build=$(cd "$build" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The targets run side by side; each gets its own corpus copy, log and artifact directory.
pids=()
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  cp -R "$root/tests/fuzz/corpus/$target" "$work/$target/corpus"
  artifacts="$build/fuzz-artifacts/$target"
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  dict=()
  name=${target#fuzz_}
  [ -f "$root/tests/fuzz/$name.dict" ] && dict=("-dict=$root/tests/fuzz/$name.dict")
  (
    cd "$work/$target"
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
      "$build/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" corpus
  ) >"$work/$target/log" 2>&1 &
  pids+=($!)
done

failed=0
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  log="$work/$target/log"
  status=0
  wait "${pids[$i]}" || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  stats=$(grep -E '^#[0-9]+' "$log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
  if [ "$status" -eq 0 ]; then
    echo "$target: ok, ${runs:-?} runs in ${seconds}s, ${stats:-no stats}"
    continue
  fi
  failed=1
  kind=$(grep -oE 'ERROR: libFuzzer: [a-z -]+|ERROR: AddressSanitizer: [a-z-]+|runtime error|property violated: .*' "$log" \
         | head -n1 || true)
  reproducer=$(find "$build/fuzz-artifacts/$target" -type f | head -n1)
  echo "$target: FAILED (${kind:-exit status $status}) after ${runs:-?} runs, reproducer ${reproducer:-none}"
  # The sanitizer report and stack, for the CI log.
  sed -n '/^==[0-9]*==\|runtime error\|property violated\|ERROR: libFuzzer/,$p' "$log" | head -n 80 >&2
done
exit "$failed"
