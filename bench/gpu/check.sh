#!/usr/bin/env bash
# The GPU check of issue 5, for a machine with an NVIDIA GPU, the CUDA toolkit, Node and
# (for the comparison) PyTorch with CUDA: builds the addon and the C library with the CUDA
# kernels, runs the CUDA tests (failing if the 'cuda' backend is not available; skipped, and
# said so in the report, where node_modules cannot be installed), checks the kernels against
# the CPU kernels on the GPU, then times
# the coupled step, our fused AdamW and torch.optim.AdamW(fused=True) on 50304x768,
# 128256x4096 and 262144x2304 against a device-to-device copy in the same run, and writes
# bench/results/gpu-<UTC stamp>.{json,md} plus the logs of each stage.
# Usage: bash bench/gpu/check.sh [--iters N] [--warmup N]     (N >= 50 for --iters)
set -euo pipefail
cd "$(dirname "$0")/../.."

ITERS=100
WARMUP=10
while [ $# -gt 0 ]; do
  case "$1" in
    --iters) ITERS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# 1. the machine
if ! command -v nvidia-smi > /dev/null; then
  echo "check.sh: nvidia-smi not found: this needs a machine with an NVIDIA GPU" >&2
  exit 1
fi
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS=bench/results
LOGS="$RESULTS/gpu-$STAMP-logs"
mkdir -p "$LOGS"
echo "check.sh: results in $RESULTS/gpu-$STAMP.*, logs in $LOGS"
nvidia-smi -i 0 --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$LOGS/gpu-info.txt"
nvcc --version | tail -n 2 > "$LOGS/nvcc.txt"

# 2. the JS side: addon, TypeScript, the CUDA tests and the golden suite (now on 'cuda').
# Needs node_modules: installed here by npm ci, or carried in on a machine without network.
JS_TESTS="passed"
if [ -d node_modules ] || npm ci --ignore-scripts > "$LOGS/npm-ci.log" 2>&1; then
  npm run build:addon > "$LOGS/build-addon.log" 2>&1
  npm run build > "$LOGS/build-ts.log" 2>&1
  node --input-type=module -e "
    const { backends } = await import('./dist/index.js');
    const cuda = backends().find((b) => b.name === 'cuda');
    console.log('cuda backend:', JSON.stringify(cuda));
    if (!cuda.available) process.exit(1);
  " | tee "$LOGS/backend.txt"
  npx vitest run test/cuda.test.ts test/backends.test.ts 2>&1 | tee "$LOGS/vitest.log"
else
  JS_TESTS="not run: npm ci failed and there is no node_modules (see npm-ci.log)"
  echo "check.sh: JS tests $JS_TESTS; going on with the C library" >&2
fi
echo "$JS_TESTS" > "$LOGS/js-tests.txt"

# 3. the C library: its CTest programs, and gpu_bench (CMake and nvcc only, no npm)
cmake -S . -B build/c -DCOUPLED_ADAM_TESTS=ON -DCOUPLED_ADAM_CUDA=ON \
  -DCOUPLED_ADAM_GPU_BENCH=ON > "$LOGS/cmake.log" 2>&1
cmake --build build/c --parallel >> "$LOGS/cmake.log" 2>&1
ctest --test-dir build/c --output-on-failure 2>&1 | tee "$LOGS/ctest.log"

# 4. the kernels against the CPU kernels, then timings: ours (gpu_bench), then PyTorch's
build/c/gpu_bench --warmup "$WARMUP" --iters "$ITERS" | tee "$LOGS/ours.json"
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    2> /dev/null; then
  python3 bench/gpu/torch_adamw.py --warmup "$WARMUP" --iters "$ITERS" | tee "$LOGS/torch.json"
else
  echo '{"skipped": "PyTorch with CUDA is not installed here (pip install torch)"}' \
    | tee "$LOGS/torch.json"
fi

# 5. the report, with the targets judged
node bench/gpu/report.mjs "$LOGS/ours.json" "$LOGS/torch.json" "$LOGS/gpu-info.txt" "$STAMP" \
  "$LOGS/js-tests.txt"
