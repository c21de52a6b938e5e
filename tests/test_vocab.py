"""Issue 21: the same texts give the same WordPiece vocabulary. tokenizers' trainer numbers the
«##x» pieces in hash-map order, which changes the merges chosen among ties
(huggingface/tokenizers#1794); the solution's from_corpus fixes that order."""
import pandas as pd
import pytest

from coursekit.notebook import load_defs
from coursekit.solution import ensure_data


@pytest.fixture(scope="module")
def solution():
    return load_defs()


def test_same_corpus_same_vocabulary(solution, tmp_path):
    corpus = pd.read_csv(ensure_data(), keep_default_na=False, nrows=5000)["text"].tolist()
    vocabularies = []
    for run in range(4):
        folder = tmp_path / str(run)
        tokenizer = solution.WordpieceTokenizer.from_corpus(
            corpus, folder / "corpus.txt", folder / "tokenizer", "receipts", vocab_size=1000)
        vocabularies.append((folder / "tokenizer" / "receipts-vocab.txt").read_text(encoding="utf-8"))
        assert tokenizer.vocab_size == 1000
    assert vocabularies[0].split("\n")[:5] == solution.SPECIAL_TOKENS
    assert len(set(vocabularies)) == 1, f"{len(set(vocabularies))} разных словарей из 4 запусков"
