#!/usr/bin/env bash
# Installs what conveyor needs to build and test: Debian packages with apt-get, Python packages
# with pip. Idempotent, and quiet when everything is already there.
set -euo pipefail

debian=(g++ make libtbb-dev libxtensor-dev libgtest-dev libbenchmark-dev libcli11-dev)
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
