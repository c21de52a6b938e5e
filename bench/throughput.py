"""Pretraining step throughput: the solution's BertModel vs transformers.BertForPreTraining
of the same size, on the same device, in one run; and tokenisation speed.

    python bench/throughput.py [--size mini|smoke] [--batch 256] [--seqlen 24] [--steps 20]
"""
import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import transformers

from coursekit import ROOT
from coursekit.notebook import load_defs

SIZES = {  # bert-mini from the assignment, and the CPU smoke model
    "mini": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, vocab_size=30000),
    "smoke": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, vocab_size=8000),
}


def make_batch(vocab_size, batch, seqlen, device):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (batch, seqlen), generator=g)
    lengths = torch.randint(seqlen // 2, seqlen + 1, (batch,), generator=g)
    mask = (torch.arange(seqlen)[None] < lengths[:, None]).long()
    ids = ids * mask  # [PAD] = 0 after the text
    labels = torch.where((torch.rand(batch, seqlen, generator=g) < 0.15) & (mask == 1), ids, -100)
    types = (torch.arange(seqlen)[None] >= lengths[:, None] // 2).long() * mask
    permuted = torch.randint(0, 2, (batch,), generator=g)
    return [t.to(device) for t in (ids, mask, types, labels, permuted)]


def time_steps(step, steps, device):
    for _ in range(3):  # warm-up
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def bench_models(size, batch, seqlen, steps, device):
    sol = load_defs()
    h = size["hidden_size"]
    ours = sol.BertModel(hidden_size=h, vocab_size=size["vocab_size"], max_seqlen=seqlen + 3,
                         num_hidden_layers=size["num_hidden_layers"], intermediate_size=4 * h,
                         num_attention_heads=size["num_attention_heads"], act_func="gelu").to(device)
    config = transformers.BertConfig(
        vocab_size=size["vocab_size"], hidden_size=h, num_hidden_layers=size["num_hidden_layers"],
        num_attention_heads=size["num_attention_heads"], intermediate_size=4 * h,
        max_position_embeddings=seqlen + 3, hidden_act="gelu",
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    theirs = transformers.BertForPreTraining(config).to(device)
    ids, mask, types, labels, permuted = make_batch(size["vocab_size"], batch, seqlen, device)
    dtype = sol.autocast_dtype(device)

    def stepper(model, forward):
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = forward()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return step

    ours_step = stepper(ours, lambda: ours(ids, mask, labels, permuted.float(), types)[0])
    theirs_step = stepper(theirs, lambda: theirs(input_ids=ids, attention_mask=mask, token_type_ids=types,
                                                 labels=labels, next_sentence_label=permuted).loss)
    tokens = int(mask.sum())
    ours_s, theirs_s = time_steps(ours_step, steps, device), time_steps(theirs_step, steps, device)
    return tokens / ours_s, tokens / theirs_s


def bench_tokenizer(data_path, limit):
    sol = load_defs()
    texts = pd.read_csv(data_path, keep_default_na=False)["text"].tolist()[:limit]
    with tempfile.TemporaryDirectory() as tmp:
        tok = sol.WordpieceTokenizer.from_corpus(texts, Path(tmp) / "corpus.txt", tmp, "bench",
                                                 vocab_size=8000)
        start = time.perf_counter()
        tok.encode_batch(texts)
        batch_s = time.perf_counter() - start
        sample = texts[:20000]
        start = time.perf_counter()
        for text in sample:
            tok(text)
        loop_s = (time.perf_counter() - start) * len(texts) / len(sample)
    return len(texts) / batch_s, len(texts) / loop_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="mini")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seqlen", type=int, default=24)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--data", default=str(ROOT / "data" / "task3_data.csv"))
    parser.add_argument("--lines", type=int, default=200000)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU x{torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}, transformers {transformers.__version__}")
    ours, theirs = bench_models(SIZES[args.size], args.batch, args.seqlen, args.steps, device)
    print(f"pretraining step, bert-{args.size}, batch {args.batch} x {args.seqlen}:")
    print(f"  solution BertModel            {ours:12,.0f} tokens/s")
    print(f"  transformers BertForPreTraining {theirs:10,.0f} tokens/s")
    print(f"  ratio solution / transformers  {ours / theirs:.2f}")
    if Path(args.data).exists():
        batch_rate, loop_rate = bench_tokenizer(args.data, args.lines)
        print(f"tokenisation: encode_batch {batch_rate:,.0f} lines/s, "
              f"loop over __call__ {loop_rate:,.0f} lines/s, ratio {batch_rate / loop_rate:.1f}")
    else:
        print(f"tokenisation: skipped, no {args.data} (run `make data`)")


if __name__ == "__main__":
    main()
