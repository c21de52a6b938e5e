"""Convert the real Data Fusion 2021 (task 1) data to the course format.

    python data/convert_contest.py INPUT.parquet|INPUT.csv [--out data/task3_data.csv] [--seed 0]

Input columns: ``item_name``, ``category_id`` (-1 = unlabelled).  Output like data/build_dataset.py:
the student's ``text,label,split`` (test labels removed), the instructor's answer key
(``answer_key/task3_answer_key.csv`` next to the output, test ``text,label``; never hand it out)
and ``task3_categories.csv`` (``label,name``) next to the output.
Rules: empty / NaN names are dropped; names are deduplicated (a name with conflicting labels gets
its most frequent label, ties -> the smallest id); labelled unique names are split into
train/val/test (80/10/10 per class, seeded; classes with fewer than 3 names stay in train);
unlabelled names that are not labelled anywhere -> 'unsupervised'.  Contest category ids are kept
as labels; the category map lists the ids seen (name = the id as text unless ``names`` is given).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from data.build_dataset import DATA_DIR, validate_dataset, write_dataset

REQUIRED = ("item_name", "category_id")
EXTENSIONS = (".parquet", ".pq", ".csv", ".csv.gz")


def read_contest(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file does not exist: {path}")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        df = pd.read_parquet(path)
    elif name.endswith((".csv", ".csv.gz")):
        df = pd.read_csv(path, dtype={"item_name": str}, keep_default_na=True)
    else:
        raise ValueError(f"unsupported extension of {path.name!r} "
                         f"(expected one of {', '.join(EXTENSIONS)})")
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"missing columns in {path.name}: {', '.join(missing)} "
                         f"(need item_name, category_id)")
    return df


def contest_to_dataset(raw: pd.DataFrame, seed: int = 0, val_frac: float = 0.1,
                       test_frac: float = 0.1) -> pd.DataFrame:
    """Contest table (item_name, category_id) -> validated text,label,split table."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)} (need item_name, category_id)")
    names = raw["item_name"]
    ok = names.notna() & names.map(lambda x: isinstance(x, str))
    df = pd.DataFrame({"text": names[ok].str.strip(), "cat": raw.loc[ok, "category_id"]})
    df = df[df["text"] != ""]
    cat = pd.to_numeric(df["cat"], errors="coerce")
    bad = df["cat"].notna() & cat.isna()
    if bad.any():
        raise ValueError(f"non-numeric category_id values: {int(bad.sum())} rows")
    cat = cat.fillna(-1)
    if (cat != np.round(cat)).any() or (cat < -1).any():
        raise ValueError("category_id must be integers >= 0, or -1 for unlabelled")
    df["cat"] = cat.astype(np.int64)

    lab = df[df["cat"] >= 0]
    # most frequent label per name; ties -> smallest id
    votes = lab.groupby(["text", "cat"]).size().rename("n").reset_index()
    votes = votes.sort_values(["text", "n", "cat"], ascending=[True, False, True], kind="stable")
    labelled = votes.drop_duplicates("text", keep="first")[["text", "cat"]].reset_index(drop=True)

    rng = np.random.default_rng(seed)
    split = np.full(len(labelled), "train", dtype=object)
    for _, idx in labelled.groupby("cat").indices.items():
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        if n < 3:
            continue
        n_val = max(1, int(round(n * val_frac)))
        n_test = max(1, int(round(n * test_frac)))
        split[idx[:n_val]] = "val"
        split[idx[n_val:n_val + n_test]] = "test"
    labelled["split"] = split
    order = {"train": 0, "val": 1, "test": 2}
    labelled = labelled.iloc[np.lexsort((labelled.index.to_numpy(),
                                         labelled["split"].map(order).to_numpy()))]

    unl = df.loc[df["cat"] < 0, "text"].drop_duplicates()
    unl = unl[~unl.isin(pd.Index(labelled["text"]))]
    out = pd.concat([
        pd.DataFrame({"text": labelled["text"].to_numpy(), "label": labelled["cat"].to_numpy(),
                      "split": labelled["split"].to_numpy()}),
        pd.DataFrame({"text": unl.to_numpy(), "label": pd.NA, "split": "unsupervised"}),
    ], ignore_index=True)
    out["label"] = out["label"].astype("Int64")
    return validate_dataset(out)


def convert_contest(src, out=None, categories_out=None, seed: int = 0, names: dict | None = None,
                    answer_key_out=None):
    """Read, convert and write; returns (full labelled df, out_path, categories_path, key_path)."""
    out = Path(out) if out is not None else DATA_DIR / "task3_data.csv"
    df = contest_to_dataset(read_contest(src), seed=seed)
    ids = sorted(int(x) for x in df["label"].dropna().unique())
    names = names or {}
    cats = pd.DataFrame({"label": ids, "name": [str(names.get(i, i)) for i in ids]})
    _, out, key_out, categories_out = write_dataset(df, out, answer_key_out, cats, categories_out, seed)
    return df, out, categories_out, key_out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="contest file (.parquet or .csv) with item_name, category_id")
    ap.add_argument("--out", default=None, help="output CSV (default: data/task3_data.csv)")
    ap.add_argument("--categories-out", default=None,
                    help="label -> name CSV (default: task3_categories.csv next to --out)")
    ap.add_argument("--answer-key-out", default=None,
                    help="test labels, instructor only (default: answer_key/ next to --out)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        df, out, cat_out, key_out = convert_contest(args.input, args.out, args.categories_out,
                                                    args.seed, answer_key_out=args.answer_key_out)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts = df["split"].value_counts()
    print(f"wrote {out} ({len(df)} rows; for students, no test labels), {cat_out}")
    print(f"answer key (instructor only, never hand out): {key_out}")
    for s in ("train", "val", "test", "unsupervised"):
        print(f"  {s:13s} {int(counts.get(s, 0)):>9d}")
    print(f"  classes: {df['label'].nunique()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
