#!/usr/bin/env bash
# Installs what conveyor needs to build and test: Debian packages with apt-get, Python packages
# with pip. Idempotent, and quiet when everything is already there.
set -euo pipefail

# clang and its libFuzzer runtime: scripts/fuzz.sh; openmpi-bin: mpirun, for the test that
# launches sharded ranks as Open MPI does.
debian=(g++ make libtbb-dev libxtensor-dev libgtest-dev libbenchmark-dev libcli11-dev libopencv-dev libturbojpeg0-dev libjpeg62-turbo-dev libdlpack-dev
  clang libclang-rt-14-dev openmpi-bin)
command -v cmake >/dev/null || debian+=(cmake)
command -v ninja >/dev/null || debian+=(ninja-build)

missing=()
for p in "${debian[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=$([[ $(id -u) == 0 ]] || echo sudo)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: the build backend and bindings, NumPy, pytest, torch's CPU build (for the DLPack tests
# and conveyor-bench's comparison; 2.13.0 is the CPU wheel this kind of machine keeps on disk),
# and what conveyor-bench uses beside it: Pillow (torch's side of the JPEG workload), tqdm (the
# progress bar) and matplotlib (the plot).
python=${PYTHON:-python3}
if ! "$python" -c "import numpy, pytest, scikit_build_core, pybind11, torch, PIL, tqdm, matplotlib" 2>/dev/null; then
  echo "install-deps: installing Python packages"
  "$python" -m pip install -q "numpy>=1.22" "pytest>=7" "scikit-build-core>=0.10" "pybind11>=2.12" "torch==2.13.0" \
    pillow tqdm matplotlib
fi
