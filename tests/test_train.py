"""coursekit.train on CPU: torchrun with 2 gloo processes against 1 process with the same global
batch, a worker that dies, resuming from the checkpoint, fine-tuning strategies, figures.

One torchrun launch (about a minute on 2 busy cores, mostly imports) serves three tests: rank 1 is
killed in the 2nd fine-tuning epoch, after the pretraining and one fine-tuning epoch completed; a
single process then resumes the run from the checkpoint.

Tolerance for 1 vs 2 processes: rtol 1e-5. Data order, MLM masks and SOP swaps are identical by
construction and dropout is 0 in TINY, so only float32 summation order differs (measured: at most
2.4e-7 relative over 38 + 20 steps). Getting the global batch wrong is far outside it: averaging the
two processes' mean losses instead of weighting them by their MLM targets moves the loss by ~1e-3.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import scalars
from coursekit import ROOT, SOLUTION_NB, train
from coursekit.train import TINY

RTOL = 1e-5
PRETRAIN_TAGS = ["train/loss", "train/MLM", "train/SOP", "train/grad_norm", "train/lr"]
STEPS_PER_EPOCH = 10  # fine-tuning: 320 tiny train texts / global batch 32


@pytest.fixture(scope="module")
def crashed_ddp(tiny_run, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("ddp") / "run"
    # WordPiece training is not deterministic between processes: both runs use one vocabulary
    shutil.copytree(tiny_run / "tokenizer", run_dir / "tokenizer")
    env = dict(os.environ, OMP_NUM_THREADS="1", COURSEKIT_TRAIN_FAIL=f"1:finetune:{STEPS_PER_EPOCH + 2}")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "coursekit.train", "--data", str(tiny_run.parent / "tiny.csv"), "--run-dir", str(run_dir),
               "--set", *TINY]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return proc, time.perf_counter() - started, run_dir


@pytest.mark.slow
def test_two_processes_match_one_process_with_the_same_global_batch(tiny_run, crashed_ddp):
    _, _, run_dir = crashed_ddp
    for tag in PRETRAIN_TAGS:
        one, two = scalars(tiny_run / "pretrain", tag), scalars(run_dir / "pretrain", tag)
        assert len(one) == len(two) > 0, tag  # same number of optimizer steps: same global batches
        np.testing.assert_allclose(two, one, rtol=RTOL, err_msg=tag)
    for tag in ["train/loss", "eval", "f1"]:  # the fine-tuning epoch finished before the crash
        one, two = scalars(tiny_run / "finetune", tag), scalars(run_dir / "finetune", tag)
        n = STEPS_PER_EPOCH if tag == "train/loss" else 1
        np.testing.assert_allclose(two[:n], one[:n], rtol=RTOL, err_msg=tag)
    # rank 0 alone writes logs
    assert len(list((run_dir / "pretrain").glob("events.out.tfevents.*"))) == 1


@pytest.mark.slow
def test_a_dead_worker_stops_the_run_with_a_clear_message(crashed_ddp):
    proc, seconds, run_dir = crashed_ddp
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-2000:]
    assert seconds < 600, "the surviving process must not wait for the dead one"
    stopped = [line for line in output.splitlines() if line.startswith("coursekit.train: процесс 0 остановлен")]
    assert stopped and "продолжит обучение с последнего чекпоинта" in stopped[0], output[-3000:]
    assert "exitcode  : 3" in output  # torchrun names the failed worker
    assert (run_dir / "checkpoint_finetune.pt").exists() and not (run_dir / "finetuned_weights.pt").exists()


@pytest.mark.slow
def test_a_single_process_resumes_the_crashed_run_exactly(tiny_run, crashed_ddp, capsys):
    _, _, run_dir = crashed_ddp
    state = torch.load(run_dir / "checkpoint_finetune.pt", weights_only=True)
    assert state["epoch"] == 1
    results = train.main(["--data", str(tiny_run.parent / "tiny.csv"), "--run-dir", str(run_dir), "--set", *TINY])
    assert "продолжаю с чекпоинта checkpoint_finetune.pt: эпоха 1" in capsys.readouterr().out
    one, resumed = scalars(tiny_run / "finetune", "train/loss"), scalars(run_dir / "finetune", "train/loss")
    assert len(resumed) == len(one) == 2 * STEPS_PER_EPOCH
    np.testing.assert_allclose(resumed, one, rtol=RTOL)
    reference = torch.load(tiny_run / "finetuned_weights.pt", weights_only=True)
    for name, value in torch.load(run_dir / "finetuned_weights.pt", weights_only=True).items():
        torch.testing.assert_close(value, reference[name], rtol=1e-4, atol=1e-6)
    assert results["val_f1_weighted"] == pytest.approx(
        json.loads((tiny_run / "results.json").read_text())["val_f1_weighted"], abs=1e-3)


@pytest.mark.slow
def test_run_writes_figures_weights_and_model_card(tiny_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tiny_run / "finetune"))
    events.Reload()
    assert {"eval/confusion_matrix", "eval/f1_per_class"} <= set(events.Tags()["images"])
    assert {"train/loss", "train/grad_norm", "train/lr", "eval", "f1"} <= set(events.Tags()["scalars"])
    for name in ["pretrained_weights.pt", "finetuned_weights.pt", "model.json", "results.json",
                 "tokenizer/receipts-vocab.txt"]:
        assert (tiny_run / name).is_file(), name


@pytest.mark.slow
def test_frozen_backbone_trains_only_the_head(tiny_run, tmp_path):
    run_dir = tmp_path / "frozen"
    run_dir.mkdir()
    for name in ["tokenizer", "pretrained_weights.pt"]:  # reuse the pretraining: fine-tuning only
        copy = shutil.copytree if (tiny_run / name).is_dir() else shutil.copy
        copy(tiny_run / name, run_dir / name)
    train.main(["--data", str(tiny_run.parent / "tiny.csv"), "--run-dir", str(run_dir),
                "--set", *TINY, "trainable_layers=0", "class_weight_power=0.5", "finetune_epochs=1"])
    pretrained = torch.load(run_dir / "pretrained_weights.pt", weights_only=True)
    tuned = torch.load(run_dir / "finetuned_weights.pt", weights_only=True)
    backbone = [n for n in tuned if n.startswith("_backbone.")]
    assert backbone and all(torch.equal(tuned[n], pretrained[n]) for n in backbone)
    card = json.loads((run_dir / "model.json").read_text())
    torch.manual_seed(0)  # the head as coursekit.train initialised it
    init = train.load_defs().BertFinetuneModel(**card["model_args"], num_classes=card["num_classes"]).state_dict()
    head = [n for n in tuned if n.startswith("_classifier_head.")]
    assert head and all(not torch.equal(tuned[n], init[n]) for n in head)


def test_set_trainable_layers_and_class_weights():
    sol = train.load_defs()
    model = sol.BertFinetuneModel(hidden_size=8, vocab_size=20, max_seqlen=6, num_hidden_layers=3,
                                  intermediate_size=16, num_attention_heads=2, num_classes=4)
    names = lambda m: {n.split(".")[1] if n.startswith("_backbone.") else n.split(".")[0]  # noqa: E731
                       for n, p in m.named_parameters() if p.requires_grad}
    assert names(sol.set_trainable_layers(model, None)) == {"_embeddings", "_layers", "_classifier_head"}
    assert names(sol.set_trainable_layers(model, 0)) == {"_classifier_head"}
    model = sol.BertFinetuneModel(hidden_size=8, vocab_size=20, max_seqlen=6, num_hidden_layers=3,
                                  intermediate_size=16, num_attention_heads=2, num_classes=4)
    sol.set_trainable_layers(model, 1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any(n.startswith("_backbone._layers.2.") for n in trainable)
    assert not any(n.startswith(("_backbone._layers.1.", "_backbone._layers.0.", "_backbone._embeddings"))
                   for n in trainable)
    weights = sol.class_weights([0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2], num_classes=3, power=1.0)
    assert weights.mean().item() == pytest.approx(1.0)
    assert weights[1] / weights[0] == pytest.approx(3.0) and weights[0] / weights[2] == pytest.approx(3.0)


def test_configuration_errors_are_one_line():
    with pytest.raises(SystemExit, match="общий батч всех процессов") as error:
        train.config("smoke", ["pretrain_batch_size=33"], world=2)
    assert "\n" not in str(error.value)
    with pytest.raises(SystemExit, match="ключ=значение"):
        train.config("smoke", ["no_such_key=1"], world=1)
    assert train.config("smoke", ["hidden_size=32"], world=1)["hidden_size"] == 32
    assert train.config("full", [], world=8)["pretrain_batch_size"] == 512  # the notebook's PROFILES


@pytest.mark.slow
def test_checkpoint_of_another_configuration_is_refused(tiny_run, tmp_path):
    run_dir = tmp_path / "other"
    run_dir.mkdir()
    for name in ["tokenizer", "pretrained_weights.pt", "checkpoint_finetune.pt"]:
        copy = shutil.copytree if (tiny_run / name).is_dir() else shutil.copy
        copy(tiny_run / name, run_dir / name)
    with pytest.raises(SystemExit, match=r"от другой конфигурации \(отличаются: finetune_peak_lr\)"):
        train.main(["--data", str(tiny_run.parent / "tiny.csv"), "--run-dir", str(run_dir),
                    "--set", *TINY, "finetune_peak_lr=1e-3"])


def test_trainer_contract_is_written_down_and_holds():
    """Every private member of the notebook's trainers that coursekit.train touches is listed in
    docs/maintainers.md ("The Trainer contract"), and every listed one exists in the solution."""
    import re

    import nbformat

    used = set(re.findall(r"\btrainer\.(_\w+)", (ROOT / "coursekit" / "train.py").read_text()))
    doc = (ROOT / "docs" / "maintainers.md").read_text()
    section = doc[doc.index("## The `Trainer` contract"):]
    listed = set(re.findall(r"^\| `(_\w+)", section, re.M))
    assert used == listed, f"train.py uses but the doc misses {used - listed}; the doc lists unused {listed - used}"
    nb = nbformat.read(SOLUTION_NB, as_version=4)
    trainers = "\n".join(c.source for c in nb.cells if re.search(r"^class (Finetune)?Trainer\b", c.source, re.M))
    missing = [m for m in listed if f"self.{m} =" not in trainers and f"def {m}(" not in trainers]
    assert not missing, f"the solution's Trainer/FinetuneTrainer lack {missing}"
