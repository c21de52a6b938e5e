"""Instructor training run: pretraining (MLM + SOP), then fine-tuning, with the solution notebook's
own classes (`load_defs`), on one process or on N with torchrun (DDP).

    python -m coursekit.train --profile smoke|full                               # 1 process / 1 GPU
    torchrun --standalone --nproc_per_node=N -m coursekit.train --profile full   # N GPUs (DDP)
    ... [--data CSV] [--run-dir DIR] [--set key=value ...]                        # overrides

Hyper-parameters are the notebook's PROFILES (its `profiles` cell) plus RECIPE below; batch sizes
are GLOBAL: with N processes each one takes rows rank::N of the same global batch, and the loss is
weighted so that the gradient is that of the single-process loss on the whole batch. The data
stream (batch order, MLM masks, SOP swaps) is fixed by (seed, epoch, batch), so it is the same for
any N and a run resumes exactly from its last epoch checkpoint: rerun the same command.

Writes to --run-dir (default build/train/<profile>): tokenizer/, pretrain/ and finetune/
(tensorboard; figures at the end of fine-tuning), checkpoint_*.pt, pretrained_weights.pt,
finetuned_weights.pt, model.json (what `coursekit.predict` needs) and results.json.
"""
import argparse
import ast
import json
import os
import random
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch.distributed.elastic.multiprocessing.errors import record
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.tensorboard import SummaryWriter

from coursekit import ROOT
from coursekit.notebook import load_defs, notebook_profiles, read_data
from coursekit.solution import ensure_data

# The parts of the recipe that live in the notebook's solution cells (make_model, make_trainer,
# finetune), not in PROFILES; keep them in step with those cells.
RECIPE = dict(
    seed=0, pretrain_dropout=0.05, finetune_dropout=0.1, pretrain_weight_decay=0.01,
    finetune_weight_decay=0.05, warmup_share=0.06, final_lr=1e-6, max_grad_norm=1.0,
    mask_prob=0.15, maxlen_quantile=0.99,
    trainable_layers=None,      # fine-tuning strategy: None = all, k = head + last k layers
    class_weight_power=None,    # None = plain cross-entropy, p = class weights (N / N_c) ** p
    num_workers=None,           # DataLoader workers per process; None: 0 on CPU, up to 4 per GPU
)
NOT_IN_CHECKPOINT_KEY = {"num_workers"}  # may change between a run and its resume


# a tiny BERT for tests and the CPU benchmark (seconds on 2 cores); dropout 0 so that runs on 1 and
# on N processes can be compared step by step
TINY = ["vocab_size=400", "hidden_size=16", "num_hidden_layers=2", "num_attention_heads=2",
        "pretrain_batch_size=32", "pretrain_epochs=2", "pretrain_peak_lr=3e-3",
        "finetune_batch_size=32", "finetune_epochs=2", "finetune_peak_lr=3e-3",
        "pretrain_dropout=0.0", "finetune_dropout=0.0"]


def write_tiny_data(folder, seed=0):
    """A slice of the student's data file (600 unlabelled, 320/120/60 labelled) and the category names."""
    student_file = ensure_data()
    data = pd.read_csv(student_file, keep_default_na=False)
    sizes = {"unsupervised": 600, "train": 320, "val": 120, "test": 60}
    tiny = pd.concat([data[data["split"] == split].sample(n, random_state=seed) for split, n in sizes.items()])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tiny.to_csv(folder / "tiny.csv", index=False)
    (folder / "task3_categories.csv").write_bytes(student_file.with_name("task3_categories.csv").read_bytes())
    return folder / "tiny.csv"


def read_splits(path, cfg):
    """{split: DataFrame(text, label)} and the category names. The rows are those the notebook's
    `read_data` cell keeps with cfg['subsample'] (smoke: a part of train and of the unlabelled texts).
    Labels of a split may be missing (e.g. test in a student file): they are then NaN."""
    data = read_data(path, config=cfg)
    categories = pd.read_csv(Path(path).with_name("task3_categories.csv")).set_index("label")["name"]
    return {split: part.reset_index(drop=True) for split, part in data.groupby("split")}, categories


class Stop(SystemExit):
    """One clear line for the user, no traceback."""

    def __init__(self, message):
        super().__init__(f"coursekit.train: {message}")


class Processes:
    """This process's place in the run: rank, number of processes, device, and the collectives."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.rank = int(os.environ.get("RANK", 0))
        local = int(os.environ.get("LOCAL_RANK", 0))
        self.device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if self.world > 1:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo",
                                    timeout=timedelta(minutes=30))

    @property
    def main(self):
        return self.rank == 0

    def sum(self, tensor):
        if self.world > 1:
            dist.all_reduce(tensor)
        return tensor

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def print(self, *args):
        if self.main:
            print(*args, flush=True)


class GlobalBatches(Sampler):
    """The notebook's length-bucketed batches (SortedBatchSampler) in an order fixed by
    (seed, epoch); yields (seed of the batch, its indices). Every process walks the same list."""

    def __init__(self, batches, seed, world):
        self._batches = [b for b in batches if len(b) >= world]  # every process needs a row
        self._seed = seed
        self.epoch = 0

    def __iter__(self):
        order = torch.randperm(len(self._batches), generator=torch.Generator().manual_seed(self._seed + self.epoch))
        for i in order.tolist():
            yield int(np.random.SeedSequence([self._seed, self.epoch, i]).generate_state(1)[0]), self._batches[i]

    def __len__(self):
        return len(self._batches)


class Shard(Dataset):
    """Builds a whole global batch under its own seed (the dataset's SOP swaps and the collator's
    masks then do not depend on the number of processes) and keeps rows rank::world of it."""

    def __init__(self, dataset, collate, pad_id, rank, world):
        self._dataset, self._collate, self._pad_id = dataset, collate, pad_id
        self._rows = slice(rank, None, world)

    def __len__(self):
        return len(self._dataset)

    def __getitem__(self, key):
        seed, indices = key
        state = random.getstate()
        with torch.random.fork_rng(devices=[]):  # leave the training (dropout) generator alone
            random.seed(seed)
            torch.default_generator.manual_seed(seed)
            batch = self._collate([self._dataset[i] for i in indices])
        random.setstate(state)
        input_ids = batch[0][self._rows]
        width = int((input_ids != self._pad_id).sum(dim=1).max())  # drop columns that are padding here
        return tuple(t[self._rows][:, :width] if t.dim() == 2 else t[self._rows] for t in batch)


def shard_loader(dataset, collate, batch_size, cfg, procs, pad_id, sol):
    batches = list(sol.SortedBatchSampler(len(dataset), batch_size, shuffle=False))
    cuda = procs.device.type == "cuda"
    workers = cfg["num_workers"]
    if workers is None:  # on GPU every process builds whole global batches: keep the GPU fed
        workers = min(4, (os.cpu_count() or 1) // procs.world) if cuda else 0
    return DataLoader(Shard(dataset, collate, pad_id, procs.rank, procs.world), batch_size=None,
                      sampler=GlobalBatches(batches, cfg["seed"], procs.world), num_workers=workers,
                      pin_memory=cuda, persistent_workers=workers > 0)


def pretrain_loss(trainer, batch, procs, pad_id):
    """This process's share of the global-batch loss 0.5 MLM + 0.5 SOP (BertModel's weights):
    MLM is a mean over the targets of the whole global batch, SOP over its texts."""
    input_ids, token_type_ids, labels, permuted = batch
    targets = (labels != -100).sum()
    totals = procs.sum(torch.stack([targets, torch.tensor(len(labels), device=labels.device)]).float())
    _, parts = trainer._model(input_ids, (input_ids != pad_id).long(), labels, permuted, token_type_ids)
    mlm = torch.nan_to_num(parts["MLM"].float()) * targets / totals[0]  # no targets here: 0, not nan
    sop = parts["SOP"].float() * len(labels) / totals[1]
    share = 0.5 * mlm + 0.5 * sop
    # DDP averages gradients over processes, hence the factor world
    return procs.world * share, {"loss": share, "MLM": mlm, "SOP": sop}


def finetune_loss(trainer, batch, procs, weight):
    """This process's share of the (class-weighted) mean cross-entropy over the global batch."""
    input_ids, targets = batch
    w = weight[targets] if weight is not None else torch.ones(len(targets), device=targets.device)
    total = procs.sum(w.sum().reshape(1))
    share = (F.cross_entropy(trainer._logits(input_ids), targets, reduction="none") * w).sum() / total[0]
    return procs.world * share, {"loss": share}


def fail_for_tests(stage, n_batch, procs):
    """COURSEKIT_TRAIN_FAIL=rank:stage:batch kills that process there, like a crash (tests)."""
    if os.environ.get("COURSEKIT_TRAIN_FAIL") == f"{procs.rank}:{stage}:{n_batch}":
        os._exit(3)


def checkpoint_config(cfg):
    return {k: v for k, v in cfg.items() if k not in NOT_IN_CHECKPOINT_KEY}


def resume(path, trainer, module, cfg, procs):
    """Loads the epoch checkpoint if there is one; returns the epoch to start from."""
    if not path.exists():
        return 0
    state = torch.load(path, map_location=procs.device, weights_only=True)
    if state["config"] != checkpoint_config(cfg):
        changed = sorted(k for k in set(state["config"]) | set(cfg)
                         if k not in NOT_IN_CHECKPOINT_KEY and state["config"].get(k) != cfg.get(k))
        raise Stop(f"{path} от другой конфигурации (отличаются: {', '.join(changed)}); "
                   f"удалите его или укажите другой --run-dir")
    module.load_state_dict(state["model"])
    trainer._optimizer.load_state_dict(state["optimizer"])
    trainer._scaler.load_state_dict(state["scaler"])
    for _ in range(state["n_step"]):  # the Scheduler's public API: lr(k) after k steps
        trainer._scheduler.step()
    trainer._n_epoch, trainer._n_batch, trainer._n_step = state["epoch"], state["n_batch"], state["n_step"]
    if trainer._writer is not None:  # tensorboard: drop what the crashed run logged after the checkpoint
        trainer._writer.close()
        trainer._writer = SummaryWriter(trainer._logdir, purge_step=state["n_batch"])
    procs.print(f"продолжаю с чекпоинта {path.name}: эпоха {state['epoch']}")
    return state["epoch"]


def save_checkpoint(path, trainer, module, cfg):
    state = dict(epoch=trainer._n_epoch, n_batch=trainer._n_batch, n_step=trainer._n_step,
                 model=module.state_dict(), optimizer=trainer._optimizer.state_dict(),
                 scaler=trainer._scaler.state_dict(), config=checkpoint_config(cfg))
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash while saving leaves the previous checkpoint intact


def run_epochs(stage, trainer, module, loader, n_epochs, batch_loss, cfg, procs, run_dir, after_epoch=None):
    """The training loop of both stages, on the notebook Trainer's own step (AMP, clipping, lr,
    tensorboard) with the distributed loss; a checkpoint after every epoch (rank 0)."""
    checkpoint = run_dir / f"checkpoint_{stage}.pt"
    for epoch in range(resume(checkpoint, trainer, module, cfg, procs), n_epochs):
        loader.sampler.epoch = epoch
        torch.manual_seed(cfg["seed"] + 1000 * (epoch + 1) + procs.rank)  # dropout: exact resume
        trainer._model.train()
        started, total = time.perf_counter(), 0.
        for batch in loader:
            batch = [t.to(procs.device, non_blocking=True) for t in batch]
            with trainer._autocast():
                loss, parts = batch_loss(trainer, batch)
            trainer._backward(loss)
            trainer._optimizer_step()
            values = procs.sum(torch.stack([v.detach().float() for v in parts.values()])).tolist()
            for name, value in zip(parts, values):
                trainer._log(f"train/{name}", value, trainer._n_batch)
            total += values[0]
            trainer._n_batch += 1
            fail_for_tests(stage, trainer._n_batch, procs)
        message = f"{stage} эпоха {epoch}: train loss {total / len(loader):.4f}, {time.perf_counter() - started:.1f} с"
        if after_epoch is not None:
            message += after_epoch(epoch)
        trainer._n_epoch += 1
        procs.print(message)
        if procs.main:
            save_checkpoint(checkpoint, trainer, module, cfg)


def wrap(model, procs):
    model = model.to(procs.device)
    if procs.world == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[procs.device.index] if procs.device.type == "cuda" else None)


def make_scheduler(sol, optimizer, peak_lr, steps, cfg):
    return sol.Scheduler(optimizer, init_lr=0., peak_lr=peak_lr, final_lr=cfg["final_lr"],
                         num_warmup_steps=int(cfg["warmup_share"] * steps), num_training_steps=steps)


def model_args(cfg, vocab_size, max_len):
    h = cfg["hidden_size"]
    return dict(hidden_size=h, vocab_size=vocab_size, max_seqlen=max_len + 3,  # [CLS] и два [SEP]
                num_hidden_layers=cfg["num_hidden_layers"], intermediate_size=4 * h,
                num_attention_heads=cfg["num_attention_heads"], act_func="gelu")


def build_tokenizer(sol, texts, run_dir, cfg, procs):
    """Rank 0 trains WordPiece (or reuses the run's vocabulary); the others load its file."""
    vocab = run_dir / "tokenizer" / "receipts-vocab.txt"
    if procs.main and not vocab.exists():
        sol.WordpieceTokenizer.from_corpus(texts, run_dir / "corpus.txt", run_dir / "tokenizer", "receipts",
                                           vocab_size=cfg["vocab_size"])
    procs.barrier()
    return sol.WordpieceTokenizer(vocab), vocab


def pretrain(sol, tokenizer, texts, run_dir, cfg, procs):
    """returns: MAX_LEN (99% quantile of text lengths, as in the notebook); writes pretrained_weights.pt."""
    min_len = int(np.ceil(np.log(0.5) / np.log(1 - cfg["mask_prob"])))  # P(>= 1 target) >= 0.5
    ds = sol.PretrainDataset(texts, tokenizer, minlen=min_len, maxlen=64, presort=True)
    max_len = int(np.quantile([len(ids) for ids in ds._corpus], cfg["maxlen_quantile"]))
    ds.set_maxlen(max_len)
    weights = run_dir / "pretrained_weights.pt"
    if weights.exists():
        procs.print(f"предобучение пропущено: {weights} уже есть")
        return max_len
    torch.manual_seed(cfg["seed"])
    p = cfg["pretrain_dropout"]
    model = sol.BertModel(**model_args(cfg, tokenizer.vocab_size, max_len), input_dropout_prob=p,
                          hidden_dropout_prob=p, attention_probs_dropout_prob=p).to(procs.device)
    loader = shard_loader(ds, sol.Collator(tokenizer, non_target_idx=-100, mask_prob=cfg["mask_prob"]),
                          cfg["pretrain_batch_size"], cfg, procs, tokenizer.pad_token_id, sol)
    optimizer = sol.get_optimizer(model, weight_decay=cfg["pretrain_weight_decay"])
    scheduler = make_scheduler(sol, optimizer, cfg["pretrain_peak_lr"], cfg["pretrain_epochs"] * len(loader), cfg)
    trainer = sol.Trainer(wrap(model, procs), optimizer, scheduler, tokenizer.pad_token_id, procs.device,
                          logdir=run_dir / "pretrain" if procs.main else None, max_grad_norm=cfg["max_grad_norm"])
    procs.print(f"предобучение: {len(ds)} текстов, MAX_LEN {max_len}, {len(loader)} шагов в эпохе, "
                f"общий батч {cfg['pretrain_batch_size']}, процессов {procs.world}")
    run_epochs("pretrain", trainer, model, loader, cfg["pretrain_epochs"],
               lambda t, b: pretrain_loss(t, b, procs, tokenizer.pad_token_id), cfg, procs, run_dir)
    if procs.main:
        trainer._writer.close()
        torch.save(model.state_dict(), weights)
    procs.barrier()
    return max_len


def finetune(sol, tokenizer, splits, categories, max_len, run_dir, cfg, procs):
    """returns: the FinetuneTrainer (its _model wraps the trained model); writes finetuned_weights.pt."""
    train, val = splits["train"], splits["val"]
    collate = lambda batch: sol.collate_fn(batch, pad_idx=tokenizer.pad_token_id)  # noqa: E731
    train_ds = sol.FinetuneDataset(train["text"], train["label"].astype(int), tokenizer, max_len, presort=True)
    val_ds = sol.FinetuneDataset(val["text"], val["label"].astype(int), tokenizer, max_len, presort=True)
    loader = shard_loader(train_ds, collate, cfg["finetune_batch_size"], cfg, procs, tokenizer.pad_token_id, sol)
    val_loader = DataLoader(val_ds, batch_size=256, shuffle=False, collate_fn=collate)
    torch.manual_seed(cfg["seed"])
    p = cfg["finetune_dropout"]
    model = sol.BertFinetuneModel(**model_args(cfg, tokenizer.vocab_size, max_len), num_classes=len(categories),
                                  input_dropout_prob=p, hidden_dropout_prob=p, attention_probs_dropout_prob=p)
    sol.load_weights(model, run_dir / "pretrained_weights.pt")
    sol.set_trainable_layers(model, cfg["trainable_layers"])
    model.to(procs.device)
    weight = None
    if cfg["class_weight_power"] is not None:
        weight = sol.class_weights(train["label"], len(categories), cfg["class_weight_power"]).to(procs.device)
    optimizer = sol.get_optimizer(model, weight_decay=cfg["finetune_weight_decay"])
    scheduler = make_scheduler(sol, optimizer, cfg["finetune_peak_lr"], cfg["finetune_epochs"] * len(loader), cfg)
    trainer = sol.FinetuneTrainer(wrap(model, procs), optimizer, scheduler, tokenizer.pad_token_id, procs.device,
                                  logdir=run_dir / "finetune" if procs.main else None,
                                  max_grad_norm=cfg["max_grad_norm"])
    scorer = sol.make_scorer(val["text"], val["label"].astype(int), tokenizer, max_len)

    def evaluate(epoch):  # every process evaluates the whole val split: no process waits alone
        val_loss = trainer._eval_step(val_loader)
        name, value = scorer(trainer)
        trainer._log("eval", val_loss, trainer._n_epoch)
        trainer._log(name, value, trainer._n_epoch)
        return f", eval loss {val_loss:.4f}, val {name} {value:.4f}"

    procs.print(f"дообучение: {len(train_ds)} текстов, {len(loader)} шагов в эпохе, общий батч "
                f"{cfg['finetune_batch_size']}, учатся слои {cfg['trainable_layers']} (None — все), "
                f"веса классов {cfg['class_weight_power']}")
    run_epochs("finetune", trainer, model, loader, cfg["finetune_epochs"],
               lambda t, b: finetune_loss(t, b, procs, weight), cfg, procs, run_dir, after_epoch=evaluate)
    return trainer, model


def save_for_predict(run_dir, args, max_len, vocab, categories):
    """model.json next to the weights: how coursekit.predict rebuilds the tokenizer and the model."""
    card = dict(model_args=args, num_classes=len(categories), max_len=max_len,
                vocab=vocab.relative_to(run_dir).as_posix(),
                categories={str(label): name for label, name in categories.items()})
    (run_dir / "model.json").write_text(json.dumps(card, indent=2, ensure_ascii=False))


def scores(sol, trainer, frame, tokenizer, max_len, name):
    preds = trainer.predict(sol.make_inference_loader(frame["text"], tokenizer, max_len))
    y = frame["label"].astype(int)
    return preds, {f"{name}_f1_weighted": round(f1_score(y, preds, average="weighted"), 4),
                   f"{name}_f1_macro": round(f1_score(y, preds, average="macro"), 4)}


def run(cfg, data_path, run_dir, procs):
    sol = load_defs()
    run_dir.mkdir(parents=True, exist_ok=True)
    splits, categories = read_splits(data_path, cfg)
    if (run_dir / "finetuned_weights.pt").exists():
        procs.print(f"{run_dir / 'finetuned_weights.pt'} уже есть: обучать нечего (чтобы обучить заново, удалите папку)")
        return None
    started = time.perf_counter()
    all_texts = pd.concat([s["text"] for s in splits.values()]).tolist()
    tokenizer, vocab = build_tokenizer(sol, all_texts, run_dir, cfg, procs)
    max_len = pretrain(sol, tokenizer, splits["unsupervised"]["text"].tolist(), run_dir, cfg, procs)
    pretrained = time.perf_counter()
    trainer, model = finetune(sol, tokenizer, splits, categories, max_len, run_dir, cfg, procs)
    results = dict(processes=procs.world, device=str(procs.device), pretrain_and_tokenizer_seconds=round(pretrained - started, 1),
                   finetune_seconds=round(time.perf_counter() - pretrained, 1))
    val_preds, val_scores = scores(sol, trainer, splits["val"], tokenizer, max_len, "val")
    results.update(val_scores)
    test = splits.get("test")
    if test is not None and test["label"].notna().all():  # test labels may live in a separate answer key
        results.update(scores(sol, trainer, test, tokenizer, max_len, "test")[1])
    if procs.main:
        sol.log_figures(run_dir / "finetune", sol.finetune_figures(splits["val"]["label"].astype(int), val_preds,
                                                                   categories), step=trainer._n_epoch)
        trainer._writer.close()
        save_for_predict(run_dir, model_args(cfg, tokenizer.vocab_size, max_len), max_len, vocab, categories)
        torch.save(model.state_dict(), run_dir / "finetuned_weights.pt")
        (run_dir / "results.json").write_text(json.dumps(results, indent=2))
        print(json.dumps(results), flush=True)
    procs.barrier()
    return results


def parse_overrides(pairs, cfg):
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in cfg:
            raise Stop(f"--set {pair!r}: нужно ключ=значение, ключи: {', '.join(sorted(cfg))}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def config(profile, overrides, world):
    cfg = {**{k: v for k, v in notebook_profiles()[profile].items() if k != "data"}, **RECIPE}
    cfg.update(parse_overrides(overrides, cfg))
    for key in ("pretrain_batch_size", "finetune_batch_size"):
        if cfg[key] % world:
            raise Stop(f"{key} = {cfg[key]} — общий батч всех процессов, он должен делиться на их число ({world})")
    return cfg


def stop_on_sigterm(procs):
    """torchrun stops the other processes when one fails: say so in one line."""
    def handler(signum, frame):
        print(f"coursekit.train: процесс {procs.rank} остановлен: упал другой процесс (его ошибка выше); "
              f"та же команда продолжит обучение с последнего чекпоинта", file=sys.stderr, flush=True)
        os._exit(1)  # a collective with a dead peer may never return: no clean-up
    if procs.world > 1:
        signal.signal(signal.SIGTERM, handler)


def lost_peer(exc):
    """A collective failed because another process is gone (gloo notices at once, NCCL on timeout)."""
    return isinstance(exc, dist.DistError) or any(s in str(exc) for s in ("Connection reset", "Connection closed",
                                                                           "gloo", "NCCL", "Broken pipe"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--data", type=Path, help="dataset CSV (default: the profile's, built if missing)")
    parser.add_argument("--run-dir", type=Path, help="output folder (default build/train/<profile>)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override a hyper-parameter")
    args = parser.parse_args(argv)
    procs = Processes()
    stop_on_sigterm(procs)
    cfg = config(args.profile, args.set, procs.world)
    data = args.data or ensure_data()
    if not Path(data).exists():
        raise Stop(f"нет файла данных {data}: make data")
    run_dir = args.run_dir or ROOT / "build" / "train" / args.profile
    try:
        results = run(cfg, Path(data), Path(run_dir), procs)
    except RuntimeError as exc:
        if procs.world == 1 or not lost_peer(exc):
            raise
        first = str(exc).strip().splitlines()[0][:200]
        print(f"coursekit.train: процесс {procs.rank} остановлен: потеряна связь с другим процессом ({first}), "
              f"вероятно, он упал (его ошибка выше); та же команда продолжит обучение с последнего чекпоинта",
              file=sys.stderr, flush=True)
        os._exit(1)  # no clean-up: the process group is broken
    if procs.world > 1:
        dist.destroy_process_group()
    return results


if __name__ == "__main__":
    record(main)()  # torchrun's summary then shows a failed worker's exception
