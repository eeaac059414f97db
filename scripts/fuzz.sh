#!/usr/bin/env bash
# Builds conveyor's libFuzzer targets (tests/fuzz: clang++, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs each for a bounded time:
#   decode_fuzz       peek(), decode(), decode_random_resized_crop() on JPEG, PNG and BMP bytes
#   jpeg_window_fuzz  the cropped, DCT-scaled JPEG decoder at every scale and window
#   row_fuzz          Python values into tensors (the bindings' row_from_python, embedded Python)
#
# Usage: scripts/fuzz.sh [seconds per target=60] [target...]   (default: every target)
# Environment:
#   FUZZ_BUILD_DIR  build folder (default build/fuzz); each target's growing corpus is kept in
#                   $FUZZ_BUILD_DIR/corpus/<target> and its findings in $FUZZ_BUILD_DIR/findings/<target>
#   FUZZ_JOBS       build parallelism (default 2)
#   FUZZ_FLAGS      extra libFuzzer flags for every target
# Needs clang with its libFuzzer runtime (Debian 12: apt-get install clang libclang-rt-14-dev;
# scripts/install-deps.sh installs them), and Python with NumPy and pybind11 for row_fuzz.
# Exit status: 0 when no target found anything; otherwise 1, after running every target, with
# each reproducing input saved under findings/<target> (replay: $FUZZ_BUILD_DIR/<target> FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(decode_fuzz jpeg_window_fuzz row_fuzz)
build=${FUZZ_BUILD_DIR:-$root/build/fuzz}
jobs=${FUZZ_JOBS:-2}
python=${PYTHON:-python3}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DPython_EXECUTABLE="$(command -v "$python")" -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# cv::imdecode logs a warning for every corrupt PNG/BMP it is given; keep the log readable.
export OPENCV_LOG_LEVEL=${OPENCV_LOG_LEVEL:-ERROR}
status=0
for target in "${targets[@]}"; do
  # New inputs go into the build folder's corpus; the seeds in the repository are only read.
  mkdir -p "$build/corpus/$target" "$build/findings/$target"
  flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
         -artifact_prefix="$build/findings/$target/")
  leaks=1
  case $target in
    decode_fuzz | jpeg_window_fuzz) flags+=(-dict="$root/tests/fuzz/decode.dict" -max_len=65536) ;;
    # The interpreter keeps caches (interned strings, free lists) across inputs, which a leak
    # check between inputs would report; what a row leaks is checked through weak references.
    row_fuzz) flags+=(-max_len=4096); leaks=0 ;;
  esac
  echo "fuzz.sh: $target for ${seconds} s; corpus $build/corpus/$target, findings $build/findings/$target" >&2
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=$leaks:allocator_may_return_null=1} \
    "$build/$target" "$build/corpus/$target" "$root/tests/fuzz/corpus/$target" "${flags[@]}" ${FUZZ_FLAGS:-} ||
    { status=1; echo "fuzz.sh: $target FOUND A PROBLEM: see $build/findings/$target" >&2; }
done
exit $status
