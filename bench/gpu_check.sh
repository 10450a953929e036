#!/usr/bin/env bash
# One-shot GPU check (run on a CUDA machine from the repo root): tests incl. the CUDA ones,
# the tutorial example on the GPU, and the tutorial benchmark. Writes logs to $OUT if set.
# Usage: bash bench/gpu_check.sh /path/to/mnist.npz
set -uo pipefail
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
data=${1:?path to mnist.npz}
mkdir -p /tmp/keras_home/datasets && cp "$data" /tmp/keras_home/datasets/mnist.npz
export KERAS_HOME=/tmp/keras_home
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)"
echo "== tests (CUDA tests use the GPU explicitly)"
python3 -m pytest -q -p no:warnings -rfE 2>&1 | tee "$OUT/tests.log" | grep -E "passed|failed|FAILED|ERROR" | tail -15
echo "== tutorial example on the GPU"
python3 examples/mnist_cnn.py --epochs 3 --plot "$OUT/mnist_cnn_history.png" 2>&1 | grep -v "^[┏┃┡│├└]" | tee "$OUT/example.log"
echo "== benchmark"
python3 bench/tutorial_cnn.py --epochs 4 --data "$data" 2>&1 | tee "$OUT/bench.log"
