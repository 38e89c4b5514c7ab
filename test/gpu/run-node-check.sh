#!/usr/bin/env bash
# The GPU check of the GPU runtime (test/gpu/README.md, "The GPU runtime"), on a machine with an
# NVIDIA GPU, Python with PyTorch and CuPy, and no Node. Prepared here:
#   npm install && node test/gpu/bundle.mjs && node test/gpu/prepare.mjs --only 4096x4096x4096
# then carry test/gpu/ with build-node/ and build/ (both git-ignored) and run:
#   bash test/gpu/run-node-check.sh [OUT_DIR]
# In one run: the GPU runtime's own tests (node --test, a GPU required), the three shipped kernels
# through `tilekit selftest --backend gpu` (float64 references) and `tilekit run --backend gpu`
# against `--backend interpret`, then GEMM 4096³ timed against torch.matmul (check.py). Exit 1 if
# any step fails; the last lines are the summary.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bundle=$here/build-node
out=${1:-${OUT:-$(mktemp -d)}}
mkdir -p "$out"
work=$(mktemp -d)
for f in node.xz tilekit.mjs gpu-device.test.mjs launch-child.mjs tilekit_native.node; do
  [ -f "$bundle/$f" ] || { echo "error: $bundle/$f is missing: run \`node test/gpu/bundle.mjs\` where Node is, and carry build-node/"; exit 2; }
done
xz -dc "$bundle/node.xz" > "$work/node" && chmod +x "$work/node" || { echo "error: cannot unpack $bundle/node.xz"; exit 2; }
node=$work/node
export TILEKIT_NATIVE_ADDON=$bundle/tilekit_native.node
export TILEKIT_REQUIRE_GPU=1

status=0
summary=()
step() {
  local name=$1
  shift
  echo "::: $name: $*"
  if "$@" 2>&1 | tee "$out/$name.log"; then summary+=("ok    $name"); else summary+=("FAIL  $name"); status=1; fi
}
step node-version "$node" --version
step devices "$node" "$bundle/tilekit.mjs" devices
step gpu-runtime-tests "$node" --test "$bundle/gpu-device.test.mjs"
step selftest-gpu "$node" "$bundle/tilekit.mjs" selftest --backend gpu
step run-vs-interpret "$node" "$bundle/tilekit.mjs" run-vs-interpret gpu
step gemm-4096-vs-torch python3 "$here/check.py" --only 4096x4096x4096 --out "$out"
echo "::: GPU check on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1), $(date -u +%F), logs in $out"
printf '%s\n' "${summary[@]}"
exit $status
