"""Dataset part of the course: synthetic receipts generator, converter, validation."""
import re

import numpy as np
import pandas as pd
import pytest

from data import build_dataset as bd
from data import convert_contest as cc
from data.receipts import CATEGORY_NAMES, N_CLASSES, get_world

SMALL = dict(n_labelled=3000, n_unsup=4000, min_class=8)
TOKEN = re.compile(r"[^\W\d_]{2,}")


def vocab(texts):
    return set(TOKEN.findall("\n".join(texts).lower()))


def read(path):
    return pd.read_csv(path, dtype={"text": str, "split": str}, keep_default_na=False,
                       na_values={"label": [""]})


@pytest.fixture(scope="module")
def smoke():
    return bd.generate_dataset("smoke", seed=0)


# ----------------------------------------------------------------------------- generator
def test_world_has_96_named_categories():
    assert N_CLASSES == 96 and len(set(CATEGORY_NAMES)) == 96
    cats = bd.categories_frame()
    assert list(cats.columns) == ["label", "name"]
    assert cats["label"].tolist() == list(range(96))


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    bd.build("smoke", 0, a, tmp_path / "cat_a.csv", **SMALL)
    bd.build("smoke", 0, b, tmp_path / "cat_b.csv", **SMALL)
    bd.build("smoke", 1, c, tmp_path / "cat_c.csv", **SMALL)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert (tmp_path / "cat_a.csv").read_bytes() == (tmp_path / "cat_c.csv").read_bytes()


def test_smoke_sizes_and_splits(smoke):
    counts = smoke["split"].value_counts()
    assert set(counts.index) == {"train", "val", "test", "unsupervised"}
    lab = counts["train"] + counts["val"] + counts["test"]
    assert 5500 <= lab <= 6500
    assert counts["unsupervised"] == bd.PROFILES["smoke"]["n_unsup"]
    assert 0.75 <= counts["train"] / lab <= 0.85
    assert 0.07 <= counts["test"] / lab <= 0.13


def test_no_name_twice_and_splits_disjoint(smoke):
    assert not smoke["text"].duplicated().any()
    sets = {s: set(g) for s, g in smoke.groupby("split")["text"]}
    names = list(sets)
    for i, s in enumerate(names):
        for t in names[i + 1:]:
            assert not (sets[s] & sets[t]), (s, t)


def test_all_classes_in_train_with_a_few_names(smoke):
    per = smoke[smoke["split"] == "train"]["label"].value_counts()
    assert sorted(per.index.tolist()) == list(range(96))
    assert per.min() >= 5
    for s in ("val", "test"):
        assert smoke[smoke["split"] == s]["label"].between(0, 95).all()


def test_steep_imbalance_mid_size():
    counts = bd.class_counts(20_000, 10)
    assert counts.sum() == 20_000 and counts.min() == 10
    assert counts.max() / counts.min() >= 50
    full = bd.class_counts(bd.PROFILES["full"]["n_labelled"], bd.PROFILES["full"]["min_class"])
    assert full.max() / full.min() >= 100
    df = bd.generate_dataset("full", seed=0, n_labelled=12_000, n_unsup=1000, min_class=8)
    per = df[df["split"] != "unsupervised"]["label"].value_counts()
    assert per.size == 96 and per.max() / per.min() >= 20


def test_columns_and_dtypes_of_written_file(tmp_path):
    out = tmp_path / "d.csv"
    bd.build("smoke", 3, out, tmp_path / "c.csv", **SMALL)
    raw = out.read_text(encoding="utf-8").splitlines()
    assert raw[0] == "text,label,split"
    assert any(line.endswith(",,unsupervised") for line in raw)
    df = read(out)
    assert list(df.columns) == ["text", "label", "split"]
    assert df["text"].map(lambda x: isinstance(x, str) and x.strip() != "").all()
    lab = df[~df["split"].isin(["unsupervised", "test"])]["label"]
    assert lab.notna().all() and (lab == lab.round()).all() and lab.between(0, 95).all()
    assert df[df["split"].isin(["unsupervised", "test"])]["label"].isna().all()
    bd.validate_dataset(df, 96, test_labels=False)
    cats = pd.read_csv(tmp_path / "c.csv")
    assert cats["name"].tolist() == CATEGORY_NAMES


def test_names_look_like_receipts(smoke):
    t = smoke["text"]
    assert t.str.len().between(2, 120).all()
    assert (t == t.str.upper()).mean() > 0.6            # mostly upper case
    assert (t != t.str.upper()).mean() > 0.1            # ... but not only
    assert t.str.contains(r"\d").mean() > 0.5           # sizes, percentages, codes
    assert t.str.contains(r"[А-ЯЁ]{2,}\.", regex=True).mean() > 0.1  # abbreviations "МОЛ."
    assert t.str.contains(r"\d(?:МЛ|Г|Л|КГ|ШТ)\b", case=False, regex=True).mean() > 0.1


def test_hidden_vocabulary_only_in_unsupervised_and_eval(smoke):
    world = get_world()
    train_v = vocab(smoke.loc[smoke["split"] == "train", "text"])
    unsup_v = vocab(smoke.loc[smoke["split"] == "unsupervised", "text"])
    eval_v = vocab(smoke.loc[smoke["split"].isin(["val", "test"]), "text"])
    hidden = {b.lower() for bs in world.brands_hidden for b in bs if " " not in b}
    known = {b.lower() for bs in world.brands_known for b in bs if " " not in b}
    assert not (hidden & train_v)                                # never in train
    assert len(hidden & unsup_v) >= 0.8 * len(hidden)            # taught by unlabelled text
    assert len(hidden & eval_v) >= 0.3 * len(hidden)             # and needed on val/test
    assert len(known & train_v) >= 0.8 * len(known)
    share = bd.unsup_only_vocab_share(smoke)
    assert share >= 0.3


def test_unsup_only_share_drops_without_hidden_vocabulary():
    kw = dict(SMALL, p_hidden_brand=0.0, p_hidden_head=0.0, p_skel_eval=0.0)
    plain = bd.generate_dataset("smoke", seed=0, **kw)
    hard = bd.generate_dataset("smoke", seed=0, **SMALL)
    assert bd.unsup_only_vocab_share(hard) > bd.unsup_only_vocab_share(plain) + 0.15


def test_bad_generator_arguments():
    with pytest.raises(ValueError, match="unknown profile"):
        bd.generate_dataset("huge")
    with pytest.raises(ValueError, match="too small"):
        bd.generate_dataset("smoke", n_labelled=100)
    with pytest.raises(ValueError, match="unknown difficulty"):
        bd.generate_dataset("smoke", p_nonsense=1.0, **SMALL)


def test_cli_writes_both_files_and_prints_counts(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(bd.PROFILES, "smoke", dict(bd.PROFILES["smoke"], **SMALL))
    out = tmp_path / "x.csv"
    assert bd.main(["--profile", "smoke", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "train" in text and "unsupervised" in text and "elapsed" in text
    assert out.exists() and (tmp_path / "task3_categories.csv").exists()
    assert (tmp_path / "answer_key" / "x_answer_key.csv").exists() and "answer key" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


# ----------------------------------------------------------------------------- answer key
def test_answer_key_split(tmp_path):
    """The student's file has every row but no test label; the key has exactly the test labels."""
    full = bd.generate_dataset("smoke", seed=0, **SMALL)
    _, out, _, key_path = bd.build("smoke", 0, tmp_path / "task3_data.csv", **SMALL)
    assert key_path == tmp_path / "answer_key" / "task3_answer_key.csv"
    student, key = read(out), pd.read_csv(key_path, keep_default_na=False)
    assert list(key.columns) == ["text", "label"]
    test = full[full["split"] == "test"]
    assert sorted(key["text"]) == sorted(test["text"])
    assert dict(zip(key["text"], key["label"])) == dict(zip(test["text"], test["label"].astype(int)))
    assert len(student) == len(full) and sorted(student["text"]) == sorted(full["text"])
    assert student.loc[student["split"] == "test", "label"].isna().all()
    assert student.loc[student["split"].isin(["train", "val"]), "label"].notna().all()
    assert student.loc[student["split"] == "test", "text"].tolist() == key["text"].tolist()
    # no test label anywhere in the student's file: no row carries a test text with any label
    labelled = student.dropna(subset=["label"])
    assert not set(labelled["text"]) & set(key["text"])
    # owner-only key, outside the folder handed out
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert key_path.parent.stat().st_mode & 0o777 == 0o700
    with pytest.raises(ValueError, match="labels present in unsupervised or test"):
        bd.validate_dataset(full, 96, test_labels=False)
    bd.validate_dataset(student, 96, test_labels=False)


def test_test_rows_are_shuffled_for_students():
    """The generator writes test names class by class in rounds; the student's order hides that."""
    full = bd.generate_dataset("smoke", seed=0, **SMALL)
    student, key = bd.split_answer_key(full)
    before = full.loc[full["split"] == "test", "text"].tolist()
    assert key["text"].tolist() != before and sorted(key["text"]) == sorted(before)
    assert student["split"].tolist() == full["split"].tolist()  # only rows inside the test block move


def test_answer_key_never_next_to_the_student_file(tmp_path):
    full = bd.generate_dataset("smoke", seed=0, **SMALL)
    with pytest.raises(ValueError, match="must not lie next to"):
        bd.write_dataset(full, tmp_path / "d.csv", tmp_path / "key.csv")


# ----------------------------------------------------------------------------- validation
def good_df():
    return pd.DataFrame({"text": ["МОЛОКО 1Л", "ХЛЕБ", "СЫР 200Г", "КЕФИР"],
                         "label": [0, 9, 6, pd.NA], "split": ["train", "val", "test", "unsupervised"]})


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.drop(columns=["split"]), "missing columns: split"),
    (lambda d: d.assign(text=["МОЛОКО", None, "СЫР", "КЕФИР"]), "NaN"),
    (lambda d: d.assign(text=["МОЛОКО", "  ", "СЫР", "КЕФИР"]), "empty texts"),
    (lambda d: d.assign(label=[0, 96, 6, pd.NA]), "labels out of range"),
    (lambda d: d.assign(label=[0, -1, 6, pd.NA]), "labels out of range"),
    (lambda d: d.assign(label=[0, 1.5, 6, None]), "non-integer"),
    (lambda d: d.assign(label=[0, 9, pd.NA, pd.NA]), "missing labels"),
    (lambda d: d.assign(label=[0, 9, 6, 3]), "labels present in unsupervised"),
    (lambda d: d.assign(split=["train", "valid", "test", "unsupervised"]), "unknown split names"),
    (lambda d: d.assign(text=["МОЛОКО", "ХЛЕБ", "МОЛОКО", "КЕФИР"]), "a name in two splits"),
    (lambda d: d.assign(text=["МОЛОКО", "ХЛЕБ", "СЫР", "СЫР"],
                        split=["train", "val", "test", "test"], label=[0, 9, 6, 6]),
     "duplicate names within a split"),
])
def test_validate_dataset_errors(mutate, message):
    bd.validate_dataset(good_df(), 96)
    with pytest.raises(ValueError, match=message):
        bd.validate_dataset(mutate(good_df()), 96)


def test_validate_without_n_classes_accepts_contest_ids():
    d = good_df().assign(label=[0, 203, 77, pd.NA])
    assert bd.validate_dataset(d)["label"].dtype == "Int64"
    with pytest.raises(ValueError, match="out of range"):
        bd.validate_dataset(d, 96)


def test_atomic_write_leaves_nothing_on_error(tmp_path, monkeypatch):
    out = tmp_path / "d.csv"
    out.write_text("old\n")

    def boom(self, f, **kw):
        f.write("half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        bd.write_csv_atomic(good_df(), out)
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


# ----------------------------------------------------------------------------- converter
def contest_frame():
    return pd.DataFrame({
        "item_name": ["МОЛОКО 1Л", "МОЛОКО 1Л", "МОЛОКО 1Л", "ХЛЕБ", None, "", "  ",
                      "ХЛЕБ", "ПИВО 0,5", "КЕФИР", "КЕФИР", "ЛУК", "СЫР"]
                     + [f"ЧАЙ {i}" for i in range(30)] + [f"НЕРАЗМЕЧЕН {i}" for i in range(5)],
        "category_id": [71, 71, 3, -1, 71, 71, 71, 40, -1, -1, -1, 5, -1]
                       + [84] * 30 + [-1] * 5,
    })


def check_converted(df, cats):
    assert list(df.columns) == ["text", "label", "split"]
    assert not df["text"].duplicated().any()
    assert df["text"].str.strip().ne("").all()
    lab = df[df["split"] != "unsupervised"].set_index("text")["label"]
    assert lab["МОЛОКО 1Л"] == 71                      # majority of 71, 71, 3
    assert lab["ХЛЕБ"] == 40                           # labelled once, unlabelled once
    assert lab["ЛУК"] == 5
    unsup = set(df.loc[df["split"] == "unsupervised", "text"])
    assert unsup == {"ПИВО 0,5", "КЕФИР", "СЫР"} | {f"НЕРАЗМЕЧЕН {i}" for i in range(5)}
    tea = df[df["text"].str.startswith("ЧАЙ")]["split"].value_counts()
    assert tea["train"] == 24 and tea["val"] == 3 and tea["test"] == 3
    assert df[df["split"] == "unsupervised"]["label"].isna().all()
    assert cats["label"].tolist() == [5, 40, 71, 84]
    assert cats["name"].tolist() == ["5", "40", "71", "84"]


@pytest.mark.parametrize("ext", ["parquet", "csv"])
def test_converter_parquet_and_csv(tmp_path, ext):
    src = tmp_path / f"contest.{ext}"
    raw = contest_frame()
    raw.to_parquet(src) if ext == "parquet" else raw.to_csv(src, index=False)
    out = tmp_path / "out" / "task3_data.csv"
    assert cc.main([str(src), "--out", str(out), "--seed", "1"]) == 0
    df, cats = read(out), pd.read_csv(out.parent / "task3_categories.csv", dtype={"name": str})
    key = pd.read_csv(out.parent / "answer_key" / "task3_answer_key.csv", keep_default_na=False)
    assert df[df["split"] == "test"]["label"].isna().all()  # the student's file: no test labels
    df = df.set_index("text")
    df.loc[key["text"], "label"] = key["label"].to_numpy()
    check_converted(df.reset_index(), cats)
    bd.validate_dataset(df.reset_index())
    out2 = tmp_path / "out2.csv"
    cc.convert_contest(src, out2, tmp_path / "cats2.csv", seed=1)
    assert out2.read_bytes() == out.read_bytes()
    assert (tmp_path / "answer_key" / "out2_answer_key.csv").exists()


def test_converter_errors_name_the_problem(tmp_path, capsys):
    out = tmp_path / "res" / "o.csv"
    missing = tmp_path / "nope.parquet"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cc.convert_contest(missing, out)
    txt = tmp_path / "contest.txt"
    txt.write_text("item_name,category_id\nA,1\n")
    with pytest.raises(ValueError, match="unsupported extension"):
        cc.convert_contest(txt, out)
    nocol = tmp_path / "nocol.csv"
    pd.DataFrame({"item_name": ["A"], "category": [1]}).to_csv(nocol, index=False)
    with pytest.raises(ValueError, match="missing columns.*category_id"):
        cc.convert_contest(nocol, out)
    badcat = tmp_path / "badcat.csv"
    pd.DataFrame({"item_name": ["A", "B"], "category_id": [1, "x"]}).to_csv(badcat, index=False)
    with pytest.raises(ValueError, match="category_id"):
        cc.convert_contest(badcat, out)
    for src, word in [(missing, "does not exist"), (txt, "unsupported extension"),
                      (nocol, "missing columns")]:
        assert cc.main([str(src), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and word in err and "\n" not in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


# ----------------------------------------------------------------------------- learnability
def test_tfidf_baseline_learns_smoke(smoke):
    import importlib.util

    from coursekit import ROOT

    spec = importlib.util.spec_from_file_location("baseline", ROOT / "bench" / "baseline.py")
    baseline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(baseline)
    res = baseline.run(smoke[smoke["split"] != "unsupervised"])
    assert res["test"]["weighted_f1"] >= 0.75, res
    assert res["val"]["weighted_f1"] >= 0.75, res
