#!/usr/bin/env bash
# Regenerates the PTX of the emulator's regression kernels: X.cu -> X.ptx (sm_80).
# The .ptx files are committed, so the tests run where nvcc is absent; rerun this after editing a .cu.
#   NVCC=/path/to/nvcc test/emulator/regressions/build.sh
# -lineinfo makes nvcc emit .loc/.file, so a finding can name the .cu line. nvcc writes the absolute
# path of the source into `.file`; it is cut down to the bare file name so the PTX does not depend
# on where it was built. spin.ptx has no .cu: it is hand-edited nvcc output, not rebuilt here.
set -euo pipefail
cd "$(dirname "$0")"
NVCC=${NVCC:-nvcc}
here=$(pwd -P)

for cu in *.cu; do
  base=${cu%.cu}
  out="$base.ptx"
  "$NVCC" -O3 -lineinfo -ptx -arch=sm_80 "$cu" -o "$out.tmp"
  sed "s#\"$here/#\"#" "$out.tmp" > "$out"
  rm -f "$out.tmp"
  echo "$out"
done
