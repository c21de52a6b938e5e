"""Build the synthetic receipts dataset for task3_bert.

    python data/build_dataset.py --profile smoke|full [--seed 0] [--out PATH]

Writes two files.  The student's: ``text,label,split`` (split in train/val/test/unsupervised;
label empty for test and unsupervised) to data/task3_data.csv (full; the only file handed out, both
notebook profiles read it) or data/task3_data_smoke.csv (smoke: a small dataset for the course's
own tests).  The instructor's answer key: ``text,label`` of the test rows, to
data/answer_key/task3_answer_key.csv (smoke: task3_answer_key_smoke.csv), owner-only permissions;
it never goes to students or into the grading kernel.  Plus the label -> category map
data/task3_categories.csv (``label,name``).  Same seed and profile give byte-identical files.
Also home of ``validate_dataset`` (used by the converter and the notebook) and
``unsup_only_vocab_share``.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from data.receipts import CATEGORY_NAMES, N_CLASSES, WORLD_SEED, get_world

DATA_DIR = Path(__file__).resolve().parent
SPLITS = ("train", "val", "test", "unsupervised")
COLUMNS = ("text", "label", "split")

PROFILES = {
    # n_labelled: unique labelled names (train+val+test); min_class: unique names of the
    # smallest class; n_unsup: unique unlabelled names.
    "full": dict(n_labelled=50_000, min_class=10, n_unsup=2_600_000,
                 out="task3_data.csv", key="task3_answer_key.csv"),
    "smoke": dict(n_labelled=6_000, min_class=14, n_unsup=40_000,
                  out="task3_data_smoke.csv", key="task3_answer_key_smoke.csv"),
}
ANSWER_KEY_DIR = "answer_key"  # instructor only: gitignored, never released, not in the sandbox
# difficulty knobs (see receipts.World.generate); per profile
DIFFICULTY = {
    "full": dict(p_hidden_brand=0.5, p_hidden_head=0.25, p_skel_eval=0.2, p_label_noise=0.03),
    "smoke": dict(p_hidden_brand=0.4, p_hidden_head=0.15, p_skel_eval=0.15, p_label_noise=0.02),
}
CATEGORIES_FILE = "task3_categories.csv"


# --------------------------------------------------------------------------- validation
def validate_dataset(df: pd.DataFrame, n_classes: int | None = None,
                     test_labels: bool = True) -> pd.DataFrame:
    """Check a ``text,label,split`` table; raise ValueError naming the first problem found.

    Rules: columns text/label/split; texts are non-empty strings; split in
    train/val/test/unsupervised; labelled rows have integer labels in 0..n_classes-1 (any
    non-negative integer when n_classes is None); unsupervised rows have no label, and neither do
    test rows when ``test_labels`` is False (the student's file); a text occurs at most once (so
    never in two splits).  Returns a copy with ``label`` as pandas Int64.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"dataset must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)} (need text, label, split)")
    if len(df) == 0:
        raise ValueError("dataset is empty")
    text = df["text"]
    bad = text.isna() | ~text.map(lambda x: isinstance(x, str))
    if bad.any():
        raise ValueError(f"NaN or non-string texts: {int(bad.sum())} rows (first at row {int(np.flatnonzero(bad.to_numpy())[0])})")
    empty = text.str.strip() == ""
    if empty.any():
        raise ValueError(f"empty texts: {int(empty.sum())} rows (first at row {int(np.flatnonzero(empty.to_numpy())[0])})")
    split = df["split"]
    unknown = ~split.isin(SPLITS)
    if unknown.any():
        names = sorted({str(x) for x in split[unknown].unique()})[:5]
        raise ValueError(f"unknown split names: {names} (allowed: {', '.join(SPLITS)})")
    unlabelled = ("unsupervised",) if test_labels else ("unsupervised", "test")
    unsup = split.isin(unlabelled).to_numpy()
    label = pd.to_numeric(df["label"], errors="coerce")
    not_num = df["label"].notna() & label.isna()
    if not_num.any():
        raise ValueError(f"non-numeric labels: {int(not_num.sum())} rows")
    lab_in_unsup = label[unsup].notna()
    if lab_in_unsup.any():
        raise ValueError(f"labels present in {' or '.join(unlabelled)} rows: "
                         f"{int(lab_in_unsup.sum())} rows")
    lab = label[~unsup]
    if lab.isna().any():
        raise ValueError(f"missing labels in labelled (train/val/test) rows: {int(lab.isna().sum())} rows")
    vals = lab.to_numpy(dtype=float)
    non_int = vals != np.round(vals)
    if non_int.any():
        raise ValueError(f"labels out of range: non-integer labels such as {vals[non_int][0]!r}")
    hi = (n_classes - 1) if n_classes is not None else None
    out_of_range = (vals < 0) | ((vals > hi) if hi is not None else False)
    if np.any(out_of_range):
        rng_txt = f"0..{hi}" if hi is not None else "non-negative integers"
        raise ValueError(f"labels out of range ({rng_txt}): {int(np.sum(out_of_range))} rows, "
                         f"e.g. {vals[out_of_range][0]:g}")
    dup = text.duplicated(keep=False)
    if dup.any():
        per_text = df.loc[dup].groupby("text")["split"].nunique()
        cross = per_text[per_text > 1]
        if len(cross):
            t = cross.index[0]
            where = sorted(df.loc[df["text"] == t, "split"].unique())
            raise ValueError(f"a name in two splits: {len(cross)} names, e.g. {t!r} in {where}")
        raise ValueError(f"duplicate names within a split: {int(text.duplicated().sum())} rows, "
                         f"e.g. {text[dup].iloc[0]!r}")
    out = df.loc[:, list(COLUMNS)].copy()
    out["label"] = label.astype("Int64")
    return out


# --------------------------------------------------------------------------- writing
def write_csv_atomic(df: pd.DataFrame, path) -> None:
    """Write via a temp file in the same folder + os.replace: nothing half-written on error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            df.to_csv(f, index=False, lineterminator="\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def split_answer_key(df: pd.DataFrame, seed: int = 0):
    """Labelled dataset -> (student's table, answer key).

    The student's table keeps every row but the test labels; test rows are shuffled (seeded) so
    that their order tells nothing about the classes.  The answer key is ``text,label`` of the
    test rows in the same order."""
    test = np.flatnonzero((df["split"] == "test").to_numpy())  # df is validated by its maker
    order = np.arange(len(df))
    order[test] = test[np.random.default_rng([seed, 11]).permutation(len(test))]
    df = df.iloc[order].reset_index(drop=True)
    is_test = df["split"] == "test"
    key = df.loc[is_test, ["text", "label"]].reset_index(drop=True)
    if key["label"].isna().any():
        raise ValueError(f"test rows without a label: {int(key['label'].isna().sum())}")
    student = df.copy()
    student.loc[is_test, "label"] = pd.NA
    return validate_dataset(student, test_labels=False), key


def default_answer_key_path(out) -> Path:
    """data/task3_data.csv -> data/answer_key/task3_answer_key.csv (x.csv -> answer_key/x_answer_key.csv)."""
    out = Path(out)
    name = out.name.replace("task3_data", "task3_answer_key")
    if name == out.name:
        name = f"{out.stem}_answer_key.csv"
    return out.parent / ANSWER_KEY_DIR / name


def write_dataset(df: pd.DataFrame, out, answer_key_out=None, categories=None, categories_out=None,
                  seed: int = 0):
    """Write the student's file, the answer key (owner-only) and the categories map.

    Returns (student table, out, answer key path, categories path)."""
    out = Path(out)
    key_out = Path(answer_key_out) if answer_key_out is not None else default_answer_key_path(out)
    categories_out = (Path(categories_out) if categories_out is not None
                      else out.parent / CATEGORIES_FILE)
    if key_out.resolve().parent == out.resolve().parent:
        raise ValueError(f"the answer key must not lie next to the student's file: {key_out}")
    student, key = split_answer_key(df, seed)
    key_out.parent.mkdir(parents=True, exist_ok=True)
    if key_out.parent.name == ANSWER_KEY_DIR:  # our own folder; the grading kernel runs as another user
        os.chmod(key_out.parent, 0o700)
    write_csv_atomic(key, key_out)
    os.chmod(key_out, 0o600)
    write_csv_atomic(student, out)
    write_csv_atomic(categories if categories is not None else categories_frame(), categories_out)
    return student, out, key_out, categories_out


def categories_frame() -> pd.DataFrame:
    return pd.DataFrame({"label": np.arange(N_CLASSES), "name": CATEGORY_NAMES})


# --------------------------------------------------------------------------- generation
def class_counts(n_total: int, min_class: int, n_classes: int = N_CLASSES) -> np.ndarray:
    """Steep power-law-like class sizes: geometric in rank, smallest = min_class, sum ~ n_total.

    Returned in label order (a fixed permutation of the ranks, the same for every seed)."""
    if n_total < min_class * n_classes:
        raise ValueError(f"n_labelled={n_total} is too small for {n_classes} classes of at "
                         f"least {min_class} names")
    ranks = np.arange(n_classes)[::-1] / (n_classes - 1)  # 1 for the largest, 0 for the smallest

    def total(r):
        return np.round(min_class * r ** ranks).sum()

    lo, hi = 1.0, 1e6
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if total(mid) < n_total:
            lo = mid
        else:
            hi = mid
    counts = np.round(min_class * lo ** ranks).astype(np.int64)
    counts[0] += n_total - counts.sum()  # exact total (largest class absorbs rounding)
    perm = np.random.default_rng(WORLD_SEED + 1).permutation(n_classes)
    return counts[perm]


def _split_sizes(n: int, val_frac=0.1, test_frac=0.1):
    n_val = max(1, int(round(n * val_frac)))
    n_test = max(1, int(round(n * test_frac)))
    return n - n_val - n_test, n_val, n_test


def _noisy_labels(labels: np.ndarray, rng, p: float) -> np.ndarray:
    """Label noise: a share p of rows get a confusable (twin / same family) or a random label."""
    world = get_world()
    orig = labels
    labels = labels.copy()
    idx = np.flatnonzero(rng.random(len(labels)) < p)
    u = rng.random(len(idx))
    r = rng.integers(0, 1 << 30, len(idx))
    for i, ui, ri in zip(idx, u, r):
        c = labels[i]
        if ui < 0.5 and world.twins[c]:
            cand = world.twins[c]
        elif ui < 0.8:
            cand = [m for m in world.family_members[c] if m != c] or list(range(N_CLASSES))
        else:  # a random row's label: noise lands mostly in the big classes
            labels[i] = orig[ri % len(orig)]
            continue
        labels[i] = cand[ri % len(cand)]
    return labels


def generate_dataset(profile: str = "smoke", seed: int = 0, n_labelled: int | None = None,
                     n_unsup: int | None = None, min_class: int | None = None,
                     **difficulty) -> pd.DataFrame:
    """Return the dataset as a DataFrame (text, label Int64, split), validated."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    prof = PROFILES[profile]
    n_labelled = prof["n_labelled"] if n_labelled is None else int(n_labelled)
    n_unsup = prof["n_unsup"] if n_unsup is None else int(n_unsup)
    min_class = prof["min_class"] if min_class is None else int(min_class)
    knobs = dict(DIFFICULTY[profile])
    unknown = set(difficulty) - set(knobs)
    if unknown:
        raise ValueError(f"unknown difficulty settings: {sorted(unknown)}")
    knobs.update(difficulty)
    p_label_noise = knobs.pop("p_label_noise")

    world = get_world()
    rng = np.random.default_rng([seed, 7])
    counts = class_counts(n_labelled, min_class)
    need = {}  # (split, label) -> count
    for c, n in enumerate(counts):
        for s, k in zip(("train", "val", "test"), _split_sizes(int(n))):
            need[(s, c)] = k

    # ---- labelled: generate per split (train sees only known vocabulary), dedupe, top up
    have = pd.DataFrame({"text": pd.Series([], dtype=object), "label": pd.Series([], dtype=np.int64),
                         "split": pd.Series([], dtype=object)})
    over = 1.25
    for _ in range(20):
        cnt = have.groupby(["split", "label"]).size().to_dict() if len(have) else {}
        short = {k: v - cnt.get(k, 0) for k, v in need.items() if v > cnt.get(k, 0)}
        if not short:
            break
        parts = []
        for s in ("train", "val", "test"):
            ks = [(c, v) for (ss, c), v in short.items() if ss == s]
            if not ks:
                continue
            cats = np.repeat([c for c, _ in ks], [int(np.ceil(v * over)) + 2 for _, v in ks])
            cats = cats[rng.permutation(len(cats))]
            mode = "train" if s == "train" else "eval"
            kw = {} if mode == "train" else knobs
            texts = world.generate(cats, mode, rng, **kw)
            parts.append(pd.DataFrame({"text": texts, "label": cats, "split": s}))
        new = pd.concat(parts, ignore_index=True)
        new = new.iloc[rng.permutation(len(new))]
        have = pd.concat([have, new], ignore_index=True).drop_duplicates("text", keep="first")
        rank = have.groupby(["split", "label"]).cumcount().to_numpy()
        lim = np.array([need[(s, c)] for s, c in zip(have["split"], have["label"])])
        have = have[rank < lim].reset_index(drop=True)
        over *= 1.5
    else:  # pragma: no cover
        raise RuntimeError("could not generate enough unique labelled names")
    order = {s: i for i, s in enumerate(SPLITS)}
    have = have.iloc[np.argsort(have["split"].map(order).to_numpy(), kind="stable")]
    labels = _noisy_labels(have["label"].to_numpy(), rng, p_label_noise)
    labelled = pd.DataFrame({"text": have["text"].to_numpy(), "label": labels,
                             "split": have["split"].to_numpy()})

    # ---- unsupervised: flatter class distribution, all vocabulary
    w = counts.astype(float) ** 0.6
    w /= w.sum()
    known = pd.Index(labelled["text"])
    pool = pd.Series([], dtype=object)
    over = 1.12
    for _ in range(20):
        if len(pool) >= n_unsup:
            break
        m = int((n_unsup - len(pool)) * over) + 100
        cats = rng.choice(N_CLASSES, size=m, p=w)
        texts = pd.Series(world.generate(cats, "unsup", rng), dtype=object)
        pool = pd.concat([pool, texts], ignore_index=True)
        pool = pool[~pool.duplicated() & ~pool.isin(known)]
        over *= 1.3
    else:  # pragma: no cover
        raise RuntimeError("could not generate enough unique unlabelled names")
    unsup = pool.iloc[:n_unsup]
    df = pd.concat([labelled, pd.DataFrame({"text": unsup.to_numpy(), "label": pd.NA,
                                            "split": "unsupervised"})], ignore_index=True)
    df["label"] = df["label"].astype("Int64")
    return validate_dataset(df, N_CLASSES)


# --------------------------------------------------------------------------- measurement
_TOKEN = re.compile(r"[^\W\d_]{2,}")


def unsup_only_vocab_share(df: pd.DataFrame, split: str = "test") -> float:
    """Share of `split` names containing a word (2+ letters, lower-cased) absent from train names
    but present in unsupervised names: vocabulary that only pretraining can teach."""
    def vocab(texts) -> set:
        return set(_TOKEN.findall("\n".join(texts).lower()))

    train_v = vocab(df.loc[df["split"] == "train", "text"])
    target = df.loc[df["split"] == split, "text"]
    new = vocab(target) - train_v
    if not new:
        return 0.0
    unsup_v = vocab(df.loc[df["split"] == "unsupervised", "text"])
    useful = new & unsup_v
    hits = target.str.lower().map(lambda t: any(w in useful for w in _TOKEN.findall(t)))
    return float(hits.mean()) if len(hits) else 0.0


# --------------------------------------------------------------------------- CLI
def build(profile: str = "smoke", seed: int = 0, out=None, categories_out=None, answer_key_out=None,
          **kw):
    """Generate and write the student's file, the answer key and the categories map.

    Returns (full labelled df, out_path, categories_path, answer_key_path)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (choose from {', '.join(PROFILES)})")
    if out is None:
        out = DATA_DIR / PROFILES[profile]["out"]
        if answer_key_out is None:
            answer_key_out = DATA_DIR / ANSWER_KEY_DIR / PROFILES[profile]["key"]
    df = generate_dataset(profile, seed, **kw)
    _, out, key_out, categories_out = write_dataset(df, out, answer_key_out,
                                                    categories_out=categories_out, seed=seed)
    return df, out, categories_out, key_out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=sorted(PROFILES), default="full")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="output CSV (default: data/task3_data[_smoke].csv)")
    ap.add_argument("--categories-out", default=None,
                    help="label -> name CSV (default: task3_categories.csv next to --out)")
    ap.add_argument("--answer-key-out", default=None,
                    help="test labels, instructor only (default: answer_key/ next to --out)")
    ap.add_argument("--no-stats", action="store_true",
                    help="skip the unsupervised-only vocabulary measurement")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        df, out, cat_out, key_out = build(args.profile, args.seed, args.out, args.categories_out,
                                          args.answer_key_out)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    dt = time.perf_counter() - t0
    counts = df["split"].value_counts()
    lab = df[df["split"] != "unsupervised"]
    per_class = lab["label"].value_counts()
    print(f"wrote {out} ({len(df)} rows; for students, no test labels), {cat_out}")
    print(f"answer key (instructor only, never hand out): {key_out}")
    for s in SPLITS:
        print(f"  {s:13s} {int(counts.get(s, 0)):>9d}")
    print(f"  classes: {per_class.size}, largest {per_class.max()}, smallest {per_class.min()} "
          f"(unique labelled names per class)")
    print(f"elapsed: {dt:.1f} s")
    if not args.no_stats:
        share = unsup_only_vocab_share(df)
        print(f"test names with a word absent from train but present in unsupervised: {share:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
