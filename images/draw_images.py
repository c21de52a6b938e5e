"""Draw the diagrams of the notebook (matplotlib only, Russian labels) into images/.

    python images/draw_images.py                  # all pictures into images/
    python images/draw_images.py --only lr        # one picture
    python images/draw_images.py --out /tmp/pics  # somewhere else

The learning-rate picture is plotted from the solution notebook's own `Scheduler`
(loaded with `coursekit.notebook.load_defs`), so it always shows what the code does.
After drawing, `python -m coursekit.notebook_images embed <notebook>` puts the PNGs into the
notebook's markdown cells as `<img data-image="NAME.png" width="W" ... src="data:image/png;base64,...">`
with the display width W from `DISPLAY_WIDTHS` below (`make images` does both). Colab does not
render `attachment:` images, a base64 `data:` URI in an `<img>` tag renders everywhere we support.
"""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

IMAGES_DIR = Path(__file__).resolve().parent
ROOT = IMAGES_DIR.parent

DPI = 110
# no "Software: matplotlib x.y" stamp: the same picture gives the same bytes
PNG_METADATA = {"Software": None}

# one colour per kind of block, the same in every picture
COLORS = {
    "emb": "#f9d5e5",      # embeddings
    "attn": "#fde2bd",     # attention
    "norm": "#fff3b0",     # add & LayerNorm
    "ffn": "#cfe6fb",      # feed-forward
    "linear": "#d7f0d2",   # linear layers
    "op": "#ececec",       # tensor operations
    "frame": "#f7f7f7",
}
EDGE = "#333333"
NOTE = "#666666"      # shape annotations

# example token sequence of a receipt line for the input picture
EXAMPLE_TOKENS = ["[CLS]", "мол", "##око", "3", ",", "2", "%", "[SEP]",
                  "пар", "##мал", "##ат", "[SEP]"]
EXAMPLE_SEGMENT_A = 8   # [CLS] A [SEP] has 8 tokens, B [SEP] the rest

# width on screen (CSS pixels) of each picture in the notebook: the PNGs are drawn at DPI 110 and
# are 770-1670 px wide, too big (and the tall ones too tall) to show at natural size
DISPLAY_WIDTHS = {
    "transformer": 420,
    "bert_input": 860,
    "attention": 380,
    "multihead": 420,
    "lr": 560,
}

# lr picture settings (a didactic schedule, not the training config)
LR_SETTINGS = dict(init_lr=0.0, peak_lr=1e-3, final_lr=1e-4,
                   num_warmup_steps=150, num_training_steps=1000)


# ---------------------------------------------------------------- drawing helpers

def _canvas(width, height, xlim, ylim):
    fig = plt.figure(figsize=(width, height), facecolor="white")
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, cx, cy, w, h, text, color, fontsize=12, dashed=False, weight="normal", zorder=2):
    """Rounded box centred at (cx, cy); returns its (left, bottom, right, top)."""
    patch = FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                           boxstyle="round,pad=0,rounding_size=0.12",
                           facecolor=color, edgecolor=EDGE, linewidth=1.4,
                           linestyle="--" if dashed else "-", zorder=zorder)
    ax.add_patch(patch)
    ax.text(cx, cy, text, ha="center", va="center", fontsize=fontsize,
            weight=weight, zorder=zorder + 1)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _arrow(ax, start, end, color=EDGE, lw=1.6):
    ax.annotate("", xy=end, xytext=start, zorder=5,
                arrowprops=dict(arrowstyle="-|>", color=color, lw=lw,
                                shrinkA=0, shrinkB=0, mutation_scale=16))


def _path_arrow(ax, points, color=EDGE, lw=1.6):
    """Polyline through `points`, arrow head on the last segment."""
    xs, ys = zip(*points[:-1])
    ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="butt", zorder=4)
    _arrow(ax, points[-2], points[-1], color=color, lw=lw)


def _dot(ax, x, y):
    ax.plot([x], [y], "o", color=EDGE, markersize=5, zorder=6)


def _note(ax, x, y, text, ha="left", fontsize=10, **kw):
    ax.text(x, y, text, ha=ha, va="center", fontsize=fontsize, color=NOTE, **kw)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor="white", metadata=PNG_METADATA)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- 1. encoder layer

def draw_transformer(path):
    fig, ax = _canvas(7.0, 8.6, (0, 10), (0, 12.3))
    cx, w, h = 5.2, 4.6, 0.8

    # input
    _box(ax, cx, 0.8, w, h, "Эмбеддинги входа", COLORS["emb"])
    _note(ax, cx, 0.15, "B × S × H", ha="center")

    # the repeated layer
    ax.add_patch(FancyBboxPatch((2.2, 2.05), 6.0, 8.1,
                                boxstyle="round,pad=0,rounding_size=0.25",
                                facecolor=COLORS["frame"], edgecolor="#999999",
                                linewidth=1.4, zorder=1))
    ax.text(1.75, 6.1, "× N", ha="center", va="center", fontsize=22, weight="bold")
    ax.text(8.05, 9.85, "слой энкодера (BertLayer)", ha="right", va="center",
            fontsize=10, color=NOTE, style="italic")

    y_attn, y_ln1, y_ffn, y_ln2 = 3.6, 5.2, 7.0, 8.6
    _box(ax, cx, y_attn, w, h, "Многоголовое самовнимание", COLORS["attn"])
    _box(ax, cx, y_ln1, w, h, "Сложение и LayerNorm", COLORS["norm"])
    _box(ax, cx, y_ffn, w, h, "Полносвязный блок\n(feed-forward)", COLORS["ffn"])
    _box(ax, cx, y_ln2, w, h, "Сложение и LayerNorm", COLORS["norm"])

    x_res = 2.55  # residual lane, left of the boxes
    # input -> attention, with a branch point for the residual
    _arrow(ax, (cx, 0.8 + h / 2), (cx, y_attn - h / 2))
    y_br1 = 2.45
    _dot(ax, cx, y_br1)
    _path_arrow(ax, [(cx, y_br1), (x_res, y_br1), (x_res, y_ln1), (cx - w / 2, y_ln1)])
    # attention -> add & norm
    _arrow(ax, (cx, y_attn + h / 2), (cx, y_ln1 - h / 2))
    # add & norm -> ffn, with the second residual
    _arrow(ax, (cx, y_ln1 + h / 2), (cx, y_ffn - h / 2))
    y_br2 = 6.05
    _dot(ax, cx, y_br2)
    _path_arrow(ax, [(cx, y_br2), (x_res, y_br2), (x_res, y_ln2), (cx - w / 2, y_ln2)])
    _arrow(ax, (cx, y_ffn + h / 2), (cx, y_ln2 - h / 2))

    for y in ((y_attn + y_ln1) / 2, (y_ffn + y_ln2) / 2):   # between the boxes
        ax.text(x_res + 0.15, y, "остаточная связь", ha="left", va="center",
                fontsize=9, color=NOTE)

    # attention mask from the side
    _path_arrow(ax, [(9.2, 2.45), (9.2, y_attn), (cx + w / 2, y_attn)], color="#8a5a00")
    ax.text(9.2, 2.05, "маска\nB × S × S", ha="center", va="center", fontsize=9, color="#8a5a00")

    # output
    _arrow(ax, (cx, y_ln2 + h / 2), (cx, 11.0))
    ax.text(cx, 11.35, "Скрытые состояния  B × S × H", ha="center", va="center", fontsize=12)
    ax.text(5.0, 12.0, "post-LayerNorm:  x ← LayerNorm(x + Dropout(Подслой(x)))",
            ha="center", va="center", fontsize=11)
    return _save(fig, path)


# ---------------------------------------------------------------- 2. input representation

def _mtext(token):
    """Token as mathtext subscript: E_{[CLS]}, E_{##око}, E_{,}."""
    safe = token.replace("#", r"\#").replace("%", r"\%")
    return r"$E_{\mathrm{" + safe + "}}$"


def draw_bert_input(path, tokens=EXAMPLE_TOKENS, n_a=EXAMPLE_SEGMENT_A):
    n = len(tokens)
    step, bw, bh = 1.05, 0.92, 0.62
    x0 = 3.3                       # centre of the first column
    width = x0 + n * step + 0.1
    fig, ax = _canvas(width * 0.95, 5.0, (0, width), (0, 5.26))

    rows = {"tok": 3.75, "seg": 2.55, "pos": 1.35}
    labels = {
        "in": "Вход",
        "tok": "Эмбеддинги\nтокенов",
        "seg": "Сегментные\nэмбеддинги",
        "pos": "Позиционные\nэмбеддинги",
    }
    y_in = 4.75
    ax.text(0.15, y_in, labels["in"], ha="left", va="center", fontsize=12, weight="bold")
    for key, y in rows.items():
        ax.text(0.15, y, labels[key], ha="left", va="center", fontsize=12)

    for i, token in enumerate(tokens):
        x = x0 + i * step
        special = token.startswith("[")
        _box(ax, x, y_in, bw, bh, token, "#ffffff" if not special else "#eeeeee",
             fontsize=12, weight="bold" if special else "normal")
        _box(ax, x, rows["tok"], bw, bh, _mtext(token), COLORS["emb"], fontsize=12)
        seg = "A" if i < n_a else "B"
        _box(ax, x, rows["seg"], bw, bh, f"$E_{seg}$",
             COLORS["ffn"] if seg == "A" else COLORS["linear"], fontsize=13)
        _box(ax, x, rows["pos"], bw, bh, f"$P_{{{i}}}$", COLORS["norm"], fontsize=13)
        for y_top, y_bot in ((rows["tok"], rows["seg"]), (rows["seg"], rows["pos"])):
            ax.text(x, (y_top + y_bot) / 2, "+", ha="center", va="center",
                    fontsize=16, weight="bold")

    # segment braces, under the position row
    def bracket(i_from, i_to, text):
        xa, xb = x0 + i_from * step - bw / 2, x0 + i_to * step + bw / 2
        y = 0.78
        ax.plot([xa, xa, xb, xb], [y + 0.12, y, y, y + 0.12], color=NOTE, lw=1.2)
        ax.text((xa + xb) / 2, y - 0.25, text, ha="center", va="center", fontsize=10,
                color=NOTE)

    bracket(0, n_a - 1, "сегмент A  (token_type_ids = 0)")
    bracket(n_a, n - 1, "сегмент B  (token_type_ids = 1)")
    ax.text(0.15, 0.53, "сумма → LayerNorm → Dropout\n→ вход энкодера",
            ha="left", va="center", fontsize=10, color=NOTE)
    return _save(fig, path)


# ---------------------------------------------------------------- 3. scaled dot-product attention

def draw_attention(path):
    fig, ax = _canvas(7.0, 9.2, (0, 9.55), (0, 12.55))
    cx, w, h = 4.0, 3.4, 0.72
    xq, xk, xv = 3.2, 4.8, 8.6
    y_in = 0.7
    for x, name in ((xq, "Q"), (xk, "K"), (xv, "V")):
        _box(ax, x, y_in, 1.0, 0.7, f"${name}$", COLORS["linear"], fontsize=15)
    _note(ax, cx, 0.08, "Q, K, V:  B × h × S × d", ha="center")

    ys = [2.3, 3.9, 5.4, 6.9, 8.4, 9.9]
    texts = [r"MatMul:  $Q K^{\top}$",
             r"Масштаб:  $\times\, 1/\sqrt{d}$",
             "Маска (опционально)",
             "Softmax (по ключам)",
             "Dropout",
             r"MatMul:  $\cdot\, V$"]
    colors = [COLORS["op"], COLORS["op"], COLORS["op"], COLORS["attn"], COLORS["op"],
              COLORS["op"]]
    for i, (y, text, color) in enumerate(zip(ys, texts, colors)):
        _box(ax, cx, y, w, h, text, color, fontsize=12, dashed=(i == 2))

    # Q and K into the first MatMul
    _arrow(ax, (xq, y_in + 0.35), (xq, ys[0] - h / 2))
    _arrow(ax, (xk, y_in + 0.35), (xk, ys[0] - h / 2))
    ax.text(xk + 0.15, 1.5, r"$K^{\top}$", ha="left", va="center", fontsize=12)
    for y_a, y_b in zip(ys[:-1], ys[1:]):
        _arrow(ax, (cx, y_a + h / 2), (cx, y_b - h / 2))
    # V goes around to the last MatMul
    _path_arrow(ax, [(xv, y_in + 0.35), (xv, ys[5]), (cx + w / 2, ys[5])])
    # output
    _arrow(ax, (cx, ys[5] + h / 2), (cx, 11.0))
    ax.text(cx, 11.3, "Выход  B × h × S × d", ha="center", va="center", fontsize=12)
    ax.text(4.5, 12.15,
            r"Attention$(Q, K, V) = \mathrm{softmax}\left(\frac{Q K^{\top}}{\sqrt{d}}\right) V$",
            ha="center", va="center", fontsize=15)

    # shapes on the right of the chain
    _note(ax, cx + w / 2 + 0.15, (ys[0] + ys[1]) / 2, "B × h × S × S")
    _note(ax, cx + w / 2 + 0.15, (ys[3] + ys[4]) / 2, "веса внимания\nB × h × S × S")
    _note(ax, cx - w / 2 - 0.1, ys[2], "finfo.min\nтам, где\nключ — [PAD]", ha="right", fontsize=9)
    _note(ax, cx - w / 2 - 0.1, ys[3], "сумма по\nпоследней\nоси = 1", ha="right", fontsize=9)
    return _save(fig, path)


# ---------------------------------------------------------------- 4. multi-head attention

def draw_multihead(path):
    fig, ax = _canvas(7.6, 9.2, (0, 10.3), (0, 12.45))
    cx = 4.6
    # input and the fused projection
    _box(ax, cx, 0.6, 2.0, 0.66, "$X$", COLORS["emb"], fontsize=15)
    _note(ax, cx + 1.15, 0.6, "B × S × H")
    _arrow(ax, (cx, 0.93), (cx, 1.72))
    _box(ax, cx, 2.1, 4.4, 0.76, r"Linear $W_{qkv}$:  H → 3H", COLORS["linear"], fontsize=12)
    _note(ax, cx + 2.35, 2.1, "один общий слой")

    # split into Q, K, V
    xs = (cx - 1.6, cx, cx + 1.6)
    y_split = 3.55
    for x, name in zip(xs, "QKV"):
        _arrow(ax, (x, 2.48), (x, y_split - 0.3))
        _box(ax, x, y_split, 1.0, 0.6, f"${name}$", COLORS["linear"], fontsize=14)
    _note(ax, cx + 2.3, y_split, "разбить на Q, K, V и на h голов:\n.view(B, S, h, d).transpose(1, 2)\n→ B × h × S × d, d = H / h", fontsize=9)

    # h stacked heads
    y_head, hw, hh = 5.7, 6.2, 1.2
    for k in (2, 1):
        _box(ax, cx + 0.22 * k, y_head + 0.22 * k, hw, hh, "", COLORS["attn"], zorder=2)
    _box(ax, cx, y_head, hw, hh, "Самовнимание одной головы\n(scaled dot-product), головы 1 … h",
         COLORS["attn"], fontsize=12, zorder=3)
    ax.text(cx + hw / 2 + 0.6, y_head + 0.2, "h голов\nпараллельно", ha="left",
            va="center", fontsize=10, color=NOTE)
    for x in xs:
        _arrow(ax, (x, y_split + 0.3), (x, y_head - hh / 2))
    # mask
    _path_arrow(ax, [(0.75, 3.55), (0.75, y_head), (cx - hw / 2, y_head)], color="#8a5a00")
    ax.text(0.75, 3.15, "маска\nB × S × S", ha="center", va="center", fontsize=9,
            color="#8a5a00")

    # concat and output projection
    y_cat, y_out = 7.95, 9.4
    _arrow(ax, (cx, y_head + hh / 2 + 0.45), (cx, y_cat - 0.36))
    _box(ax, cx, y_cat, 4.4, 0.72, "Concat (склеить головы)", COLORS["op"], fontsize=12)
    _note(ax, cx + 2.35, y_cat, "B × S × H")
    _arrow(ax, (cx, y_cat + 0.36), (cx, y_out - 0.38))
    _box(ax, cx, y_out, 4.4, 0.76, r"Linear $W_o$:  H → H", COLORS["linear"], fontsize=12)
    _arrow(ax, (cx, y_out + 0.38), (cx, 10.65))
    ax.text(cx, 10.95, "дальше: Dropout, + X, LayerNorm", ha="center", va="center",
            fontsize=11)
    ax.text(cx, 11.85, r"MultiHead$(X) = \mathrm{Concat}(\mathrm{head}_1, \dots, "
            r"\mathrm{head}_h)\, W_o$", ha="center", va="center", fontsize=14)
    return _save(fig, path)


# ---------------------------------------------------------------- 5. learning-rate schedule

def load_solution(notebook=None):
    """The solution notebook's `defs` cells as a module."""
    from coursekit.notebook import load_defs
    return load_defs() if notebook is None else load_defs(notebook)


def lr_curve(solution, init_lr, peak_lr, final_lr, num_warmup_steps, num_training_steps,
             extra_steps=0):
    """lr of the solution's Scheduler: [lr after construction, after 1 step, ...]."""
    import torch

    scheduler_cls = getattr(solution, "Scheduler", None)
    if scheduler_cls is None:
        raise AttributeError("в ноутбуке-решении нет класса Scheduler (ячейки с тегом defs)")
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak_lr)
    scheduler = scheduler_cls(optimizer, init_lr=init_lr, peak_lr=peak_lr, final_lr=final_lr,
                              num_warmup_steps=num_warmup_steps,
                              num_training_steps=num_training_steps)
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(num_training_steps + extra_steps):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def _fmt_lr(value):
    """1e-3 rather than 0.001; 0 stays 0."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def draw_lr(path, solution=None, notebook=None, settings=LR_SETTINGS):
    if solution is None:
        solution = load_solution(notebook)
    s = dict(settings)
    lrs = lr_curve(solution, **s)
    W, T = s["num_warmup_steps"], s["num_training_steps"]
    init, peak, final = s["init_lr"], s["peak_lr"], s["final_lr"]
    arrow = dict(arrowstyle="->", color=EDGE, lw=1.0)

    fig, ax = plt.subplots(figsize=(7.6, 4.3), facecolor="white")
    ax.axvspan(0, W, color=COLORS["attn"], alpha=0.6, lw=0)
    ax.axvline(W, color=NOTE, lw=1, ls="--")
    ax.plot(range(len(lrs)), lrs, color="#1f5fa8", lw=2.2)
    ax.plot([0, W, T], [lrs[0], lrs[W], lrs[T]], "o", color="#1f5fa8", markersize=6)
    ax.set_xlabel("шаг обучения", fontsize=12)
    ax.set_ylabel("learning rate", fontsize=12)
    ax.set_xlim(-T * 0.01, T * 1.03)
    ax.set_ylim(0, peak * 1.35)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    ax.grid(alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    ax.text(W / 2, peak * 1.2, "разогрев\n(warmup)", ha="center", va="center", fontsize=11)
    x_mid = W + int(0.4 * (T - W))
    ax.annotate("линейное убывание", xy=(x_mid, lrs[x_mid]),
                xytext=(x_mid + 0.08 * T, peak * 0.92), fontsize=11, ha="left",
                arrowprops=dict(arrowstyle="->", color=EDGE, lw=1.2))
    ax.annotate(f"peak_lr = {_fmt_lr(peak)}\n(шаг num_warmup_steps = {W})", xy=(W, peak),
                xytext=(W + 0.05 * T, peak * 1.2), fontsize=10, va="center", arrowprops=arrow)
    ax.annotate(f"init_lr = {_fmt_lr(init)}  (шаг 0)", xy=(0, lrs[0]),
                xytext=(W + 0.05 * T, peak * 0.12), fontsize=10, va="center",
                arrowprops=arrow)
    ax.annotate(f"final_lr = {_fmt_lr(final)}\n(шаг num_training_steps = {T})", xy=(T, lrs[T]),
                xytext=(T * 1.02, peak * 0.7), fontsize=10, ha="right", va="center",
                arrowprops=arrow)
    ax.set_title("Scheduler: линейный разогрев, затем линейное убывание", fontsize=12)
    fig.tight_layout()
    return _save(fig, path)


# ---------------------------------------------------------------- CLI

DRAWERS = {
    "transformer": draw_transformer,
    "bert_input": draw_bert_input,
    "attention": draw_attention,
    "multihead": draw_multihead,
    "lr": draw_lr,
}


def draw_all(out_dir=IMAGES_DIR, only=None, solution=None, notebook=None):
    """Draw the pictures (all, or the names in `only`) into `out_dir`; returns the paths."""
    out_dir = Path(out_dir)
    names = list(DRAWERS) if not only else list(only)
    paths = []
    for name in names:
        path = out_dir / f"{name}.png"
        if name == "lr":
            paths.append(draw_lr(path, solution=solution, notebook=notebook))
        else:
            paths.append(DRAWERS[name](path))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description="Нарисовать схемы для ноутбука.")
    parser.add_argument("--only", action="append", choices=list(DRAWERS),
                        help="нарисовать только эту картинку (можно повторять)")
    parser.add_argument("--out", default=str(IMAGES_DIR), help="папка для PNG")
    parser.add_argument("--notebook", default=None,
                        help="ноутбук, из которого брать Scheduler (по умолчанию решение)")
    args = parser.parse_args(argv)
    for path in draw_all(args.out, only=args.only, notebook=args.notebook):
        print(f"{path}  ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
