#!/usr/bin/env bash
# Builds tests/fuzz/decode_fuzz (clang++, libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer)
# and fuzzes conveyor's decoders (peek, decode, decode_random_resized_crop) for a bounded time.
#
# Usage: scripts/fuzz.sh [seconds=60] [extra libFuzzer flags...]
# Environment:
#   FUZZ_BUILD_DIR  build folder (default build/fuzz); the fuzzer's growing corpus is kept in
#                   $FUZZ_BUILD_DIR/corpus and findings in $FUZZ_BUILD_DIR/findings
#   FUZZ_JOBS       build parallelism (default 1)
# Needs clang with its libFuzzer runtime (Debian: apt-get install clang).
# Exit status: 0 when nothing was found; libFuzzer's non-zero status when something was, with the
# reproducing input saved under findings/ (replay it with: $FUZZ_BUILD_DIR/decode_fuzz FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
build=${FUZZ_BUILD_DIR:-$root/build/fuzz}
jobs=${FUZZ_JOBS:-1}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2; exit 2; }
cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$build" -j"$jobs" --target decode_fuzz

# New inputs go into the build folder's corpus; the seeds in the repository are only read.
mkdir -p "$build/corpus" "$build/findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# cv::imdecode logs a warning for every corrupt PNG/BMP it is given; keep the log readable.
export OPENCV_LOG_LEVEL=${OPENCV_LOG_LEVEL:-ERROR}
echo "fuzz.sh: fuzzing for ${seconds} s; corpus $build/corpus, findings $build/findings" >&2
exec "$build/decode_fuzz" "$build/corpus" "$root/tests/fuzz/corpus" \
  -dict="$root/tests/fuzz/decode.dict" \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
  -artifact_prefix="$build/findings/" -print_final_stats=1 "$@"
