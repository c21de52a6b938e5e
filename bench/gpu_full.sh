#!/usr/bin/env bash
# The full profile (bert-mini on the full data) on one CUDA GPU, in one command:
#
#     bench/gpu_full.sh            # from the repository root, after `make setup` with a CUDA torch
#
# 1. builds data/task3_data.csv if it is not there (make data PROFILE=full, about 1 min);
# 2. runs the solution notebook with PROFILE=full (python -m coursekit.solution --profile full:
#    papermill, executed copy in build/task3_bert.full.ipynb, logs in build/runs/full/);
# 3. writes build/gpu_full.json and prints it: GPU name, wall time of each step, time per epoch of
#    pretraining and fine-tuning, pretraining tokens/s, weighted F1 on test with and without
#    pretraining (recomputed here from the predictions file against the labelled data when the
#    notebook does not report it), plus a table row for docs/measurements.md.
#
# Environment: PY (interpreter, default .venv/bin/python), ANSWER_KEY (the test labels, default
# data/answer_key/task3_answer_key.csv). Exits with an error on a machine without a CUDA GPU.
# bench/gpu_ddp.sh adds throughput against transformers, the TF-IDF baseline and 1 GPU against N.
# Nothing here is measured yet: docs/measurements.md says so until someone runs this on a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ANSWER_KEY=${ANSWER_KEY:-data/answer_key/task3_answer_key.csv}

"$PY" - <<'PYEOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("bench/gpu_full.sh: CUDA GPU не найден (torch.cuda.is_available() is False)")
PYEOF

t0=$(date +%s)
if [ ! -f data/task3_data.csv ]; then
    "$PY" data/build_dataset.py --profile full
fi
t1=$(date +%s)
"$PY" -m coursekit.solution --profile full
t2=$(date +%s)

DATA_SECONDS=$((t1 - t0)) NOTEBOOK_SECONDS=$((t2 - t1)) ANSWER_KEY="$ANSWER_KEY" "$PY" - <<'PYEOF'
import json, os, re, subprocess, sys
from pathlib import Path

import nbformat
import pandas as pd
import torch

build = Path("build")
results = json.loads((build / "runs" / "full" / "results.json").read_text())
executed = nbformat.read(str(build / "task3_bert.full.ipynb"), as_version=4)
text = "\n".join(out.get("text", "") for cell in executed.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []) if out.get("output_type") == "stream")
profiles = next((c.source for c in executed.cells if "'full': dict(" in c.source), "")
match = re.search(r"'full': dict\((.*?)\),\n", profiles, re.S)   # the profiles cell of the notebook
config = match.group(1) if match else ""
epochs = {k: int(v) for k, v in re.findall(r"(pretrain_epochs|finetune_epochs)=(\d+)", config)}

tokens = re.search(r"([\d,\s]+) токенов/с", text)
report = {
    "gpu": torch.cuda.get_device_name(0),
    "nvidia_smi": subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                                  "--format=csv,noheader"], capture_output=True, text=True).stdout.strip(),
    "torch": torch.__version__,
    "data_seconds": int(os.environ["DATA_SECONDS"]),
    "notebook_seconds": int(os.environ["NOTEBOOK_SECONDS"]),
    "pretrain_tokens_per_second": int(re.sub(r"\D", "", tokens.group(1))) if tokens else None,
    **{k: v for k, v in results.items()},
}
if "pretrain_seconds" in results and "pretrain_epochs" in epochs:
    report["pretrain_seconds_per_epoch"] = round(results["pretrain_seconds"] / epochs["pretrain_epochs"], 1)
if "finetune_seconds" in results and "finetune_epochs" in epochs:
    report["finetune_seconds_per_epoch"] = round(results["finetune_seconds"] / epochs["finetune_epochs"], 1)

# test F1 as the grader computes it: the predictions file against the answer key
from coursekit import answer_key
for name, path in [("test_f1_weighted", build / "test_predictions.full.csv"),
                   ("scratch_test_f1_weighted", build / "runs" / "full" / "test_predictions_scratch.csv")]:
    if path.exists():
        report[name + "_graded"] = answer_key.score(path, os.environ["ANSWER_KEY"])["f1_weighted"]

out = build / "gpu_full.json"
out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
print(json.dumps(report, indent=2, ensure_ascii=False))
f1 = report.get("test_f1_weighted", report.get("test_f1_weighted_recomputed"))
print(f"\ndocs/measurements.md: | профиль `full`, {report['gpu']} (`bench/gpu_full.sh`) | данные {report['data_seconds']} с, "
      f"ноутбук {report['notebook_seconds']} с; эпоха предобучения {report.get('pretrain_seconds_per_epoch')} с "
      f"({report['pretrain_tokens_per_second']} токенов/с), эпоха дообучения {report.get('finetune_seconds_per_epoch')} с; "
      f"F1 на тесте {f1} с предобучением, {report.get('scratch_test_f1_weighted')} без |")
print(f"записано: {out}")
PYEOF
