#!/usr/bin/env bash
# The main job: installs dependencies, builds and installs the conveyor Python package, and runs
# conveyor-bench on its default workloads (about 3 minutes on 2 cores): conveyor beside torch's
# DataLoader, the table on stdout, the plot in build/conveyor-bench.png. Arguments go to
# conveyor-bench (e.g. --dataset PATH, --json FILE, --plot FILE.png; see --help).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
python=${PYTHON:-python3}
"$python" -m pip install --no-build-isolation -q "$root"
mkdir -p "$root/build"
cd "$root/build"  # not the source tree: the installed package is the one to import
"$python" -m conveyor.bench --plot "$root/build/conveyor-bench.png" "$@"
