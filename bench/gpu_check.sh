#!/usr/bin/env bash
# One-shot GPU check (run on a CUDA machine from the repo root): the tests incl. the CUDA ones, the tutorial
# example on the GPU, then the benchmarks, each printing its JSON lines: tutorial_cnn (all contenders, the
# whole-step CUDA graph included, batch 32 and 128), tutorial_cnn's compiled contenders again in
# reduce-overhead mode (torch.compile with CUDA graphs), keras_backends, import_time. Logs go to $OUT if set.
# Usage: bash bench/gpu_check.sh /path/to/mnist.npz
# Shorter runs: EPOCHS=2 SAMPLES=12800 bash bench/gpu_check.sh ...   (SKIP_TESTS=1 skips the test suite)
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
data=${1:?path to mnist.npz}
EPOCHS=${EPOCHS:-3}; SAMPLES=${SAMPLES:-60000}
mkdir -p /tmp/keras_home/datasets && cp "$data" /tmp/keras_home/datasets/mnist.npz
export KERAS_HOME=/tmp/keras_home
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
if [ -z "${SKIP_TESTS:-}" ]; then
  echo "== tests (CUDA tests use the GPU explicitly)"
  python3 -m pytest -q -p no:warnings -rfE 2>&1 | tee "$OUT/tests.log" | grep -E "passed|failed|FAILED|ERROR" | tail -15
fi
echo "== tutorial example on the GPU"
python3 examples/mnist_cnn.py --epochs 3 --plot "$OUT/mnist_cnn_history.png" 2>&1 | grep -v "^[┏┃┡│├└]" | tee "$OUT/example.log"
bench() {  # run a benchmark, keep its full log, print its JSON lines
  local log=$1; shift
  "$@" 2>"$OUT/$log.err" | tee "$OUT/$log.log" | grep "^{"
}
echo "== bench/tutorial_cnn.py (default compile mode)"
bench tutorial_cnn python3 bench/tutorial_cnn.py --epochs "$EPOCHS" --samples "$SAMPLES" --batch-size 32 128 --data "$data"
echo "== bench/tutorial_cnn.py, compiled contenders with CORNU_COMPILE_MODE=reduce-overhead (CUDA graphs)"
CORNU_COMPILE_MODE=reduce-overhead bench tutorial_cnn_cudagraphs python3 bench/tutorial_cnn.py --epochs "$EPOCHS" \
  --samples "$SAMPLES" --batch-size 32 128 --contenders cornu_jit,torch_compile,torch_cuda_graph --data "$data"
echo "== bench/keras_backends.py"
bench keras_backends python3 bench/keras_backends.py --epochs "$EPOCHS" --samples "$SAMPLES" --batch-size 32 --data "$data"
echo "== bench/import_time.py"
bench import_time python3 bench/import_time.py --runs 5
