#!/usr/bin/env bash
# Regenerates the PTX of every kernel in this folder: X.cu -> X.sm_80.ptx and X.sm_90.ptx.
# The .ptx files are committed, so the tests run where nvcc is absent; rerun this after editing a .cu.
#   NVCC=/path/to/nvcc test/emulator/corpus/build.sh
# -lineinfo makes nvcc emit .loc/.file, so a finding can name the .cu line. nvcc writes the absolute
# path of the source into `.file`; it is cut down to the bare file name so the PTX does not depend
# on where it was built.
set -euo pipefail
cd "$(dirname "$0")"
NVCC=${NVCC:-nvcc}
here=$(pwd -P)

for cu in *.cu; do
  base=${cu%.cu}
  for arch in sm_80 sm_90; do
    out="$base.$arch.ptx"
    "$NVCC" -O3 -lineinfo -ptx -arch="$arch" "$cu" -o "$out.tmp"
    sed "s#\"$here/#\"#" "$out.tmp" > "$out"
    rm -f "$out.tmp"
    echo "$out"
  done
done
