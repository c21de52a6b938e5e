"""coursekit.train on 1 process and on N (torchrun, DDP) with the same global batch: wall time of
each stage and how far the per-step losses of the two runs are apart.

    python bench/ddp.py                               # CPU: tiny model and data, 2 gloo processes
    python bench/ddp.py --profile full --nproc 8      # GPU: the full profile, 1 GPU against 8

Both runs share one WordPiece vocabulary (its training is not deterministic) and, with
--profile tiny, dropout is 0, so the losses agree up to float rounding; with dropout on (smoke,
full) each process draws its own masks and the curves agree only statistically.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from coursekit import ROOT
from coursekit.train import TINY, write_tiny_data


def scalars(logdir, tag):
    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    events.Reload()
    return np.array([e.value for e in sorted(events.Scalars(tag), key=lambda e: e.step)])


def launch(nproc, args, run_dir, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    head = [sys.executable, "-m", "coursekit.train"] if nproc == 1 else \
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", "-m", "coursekit.train"]
    started = time.perf_counter()
    subprocess.run([*head, *args, "--run-dir", str(run_dir)], cwd=ROOT, env=env, check=True)
    results = json.loads((run_dir / "results.json").read_text())
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["tiny", "smoke", "full"], default="tiny")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench_ddp")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="CPU threads of the 1-process run; each of the N processes gets threads // N")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    if args.profile == "tiny":
        train_args = ["--data", str(write_tiny_data(args.out)), "--set", *TINY]
    else:
        train_args = ["--profile", args.profile]
    one = launch(1, train_args, args.out / "one", threads=args.threads)
    (args.out / "many").mkdir()
    shutil.copytree(args.out / "one" / "tokenizer", args.out / "many" / "tokenizer")
    many = launch(args.nproc, train_args, args.out / "many", threads=max(1, args.threads // args.nproc))
    print(f"{'':32}{'1 process':>12}{f'{args.nproc} processes':>14}")
    for key in ["pretrain_and_tokenizer_seconds", "finetune_seconds", "wall_seconds", "val_f1_weighted", "val_f1_macro"]:
        print(f"{key:32}{one[key]:>12}{many[key]:>14}")
    for stage, tag in [("pretrain", "train/loss"), ("pretrain", "train/MLM"), ("finetune", "train/loss")]:
        a, b = scalars(args.out / "one" / stage, tag), scalars(args.out / "many" / stage, tag)
        rel = np.abs(a - b) / np.abs(a)
        print(f"{stage} {tag}: {len(a)} steps, relative difference max {rel.max():.2e}, mean {rel.mean():.2e}")


if __name__ == "__main__":
    main()
