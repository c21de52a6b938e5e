#!/usr/bin/env bash
# The full profile on GPU: the figures docs/measurements.md lists as "not yet measured". Run from anywhere:
#   bench/gpu_full.sh [NGPU]        (default: every visible GPU; needs `make setup` with a CUDA torch)
# Prints: pretraining throughput against transformers.BertForPreTraining (same run, same size),
# the TF-IDF baseline, 1 GPU against NGPU with the same global batch (time, loss agreement, F1).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
NGPU=${1:-$(nvidia-smi -L | wc -l)}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA: install the CUDA build of torch'"
make data PROFILE=full
$PY bench/throughput.py --size mini --batch 512 --seqlen 17 --steps 50
$PY bench/baseline.py --data data/task3_data.csv
$PY bench/ddp.py --profile full --nproc "$NGPU" --out build/bench_ddp_full
cat build/bench_ddp_full/one/results.json build/bench_ddp_full/many/results.json
