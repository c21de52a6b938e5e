"""Категории товаров с вероятностями для файла текстов (по одному на строку).

    python -m coursekit.predict --weights build/train/smoke/finetuned_weights.pt --input texts.txt \\
        --top-k 3 [--output predictions.csv|predictions.json]

Модель и токенизатор восстанавливаются по model.json рядом с весами (его пишет coursekit.train);
классы моделей — из ноутбука-решения. Без --output печатает CSV. Колонки CSV: text, rank, label,
category, probability; JSON — список {"text", "top": [{"label", "category", "probability"}]}.
"""
import argparse
import json
import sys
from pathlib import Path


class Stop(SystemExit):
    """Одна понятная строка вместо трассировки."""

    def __init__(self, message):
        super().__init__(f"coursekit.predict: {message}")


def read_texts(path):
    path = Path(path)
    if not path.is_file():
        raise Stop(f"нет входного файла {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Stop(f"{path} не в UTF-8 (байт {exc.start}): перекодируйте, например "
                   f"`iconv -f cp1251 -t utf-8`") from None
    texts = [line.strip() for line in text.splitlines() if line.strip()]
    if not texts:
        raise Stop(f"в {path} нет ни одного текста (нужен текст на строку)")
    return texts


def read_card(weights):
    """model.json рядом с весами (проверки без torch: они быстрые). returns: dict"""
    weights = Path(weights)
    card_path = weights.with_name("model.json")
    if not weights.is_file():
        raise Stop(f"нет файла весов {weights}")
    if not card_path.is_file():
        raise Stop(f"рядом с весами нет {card_path.name}: его пишет coursekit.train, без него не восстановить "
                   f"токенизатор и размеры модели")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise Stop(f"{card_path} испорчен ({exc})") from None
    absent = [key for key in ("model_args", "num_classes", "max_len", "vocab", "categories") if key not in card]
    if absent:
        raise Stop(f"в {card_path} нет полей: {', '.join(absent)}")
    vocab = weights.parent / card["vocab"]
    if not vocab.is_file():
        raise Stop(f"нет словаря токенизатора {vocab} (путь из {card_path.name})")
    return card


def load_model(weights, card, sol):
    """returns: (модель в режиме eval, токенизатор)"""
    import torch
    weights, card_path = Path(weights), Path(weights).with_name("model.json")
    try:
        model = sol.BertFinetuneModel(**card["model_args"], num_classes=card["num_classes"])
    except TypeError as exc:
        raise Stop(f"{card_path} испорчен ({exc})") from None
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip, EOF... errors: all mean "not a weights file"
        raise Stop(f"{weights} — не файл весов torch.save ({type(exc).__name__})") from None
    expected = model.state_dict()
    if not isinstance(state, dict):
        raise Stop(f"{weights}: ожидался state_dict, а там {type(state).__name__}")
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        problems = ", ".join(f"{what} {len(names)} (например {names[0]})" for what, names in
                             [("нет тензоров:", missing), ("лишних:", unexpected), ("другой формы:", wrong)] if names)
        raise Stop(f"веса {weights} не подходят к {card_path.name}: {problems}; нужны веса дообученной "
                   f"модели из того же прогона")
    model.load_state_dict(state)
    return model.eval(), sol.WordpieceTokenizer(weights.parent / card["vocab"])


def predict(model, tokenizer, card, texts, top_k, sol):
    """returns: список (text, [(label, category, probability)] по убыванию вероятности)"""
    import torch
    loader = sol.make_inference_loader(texts, tokenizer, card["max_len"])
    probabilities = []
    with torch.no_grad():
        for input_ids in loader:
            probabilities.append(model(input_ids, (input_ids != tokenizer.pad_token_id).long()).softmax(dim=-1))
    top = torch.cat(probabilities).topk(min(top_k, card["num_classes"]), dim=-1)
    names = card["categories"]
    return [(text, [(int(label), names.get(str(int(label)), str(int(label))), round(float(p), 6))
                    for p, label in zip(values, labels)])
            for text, values, labels in zip(texts, top.values, top.indices)]


def write(rows, output):
    if output is not None and Path(output).suffix.lower() == ".json":
        data = [{"text": text, "top": [{"label": label, "category": name, "probability": p}
                                       for label, name, p in top]} for text, top in rows]
        Path(output).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    import csv
    stream = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
    writer = csv.writer(stream)
    writer.writerow(["text", "rank", "label", "category", "probability"])
    for text, top in rows:
        for rank, (label, name, p) in enumerate(top, start=1):
            writer.writerow([text, rank, label, name, p])
    if output:
        stream.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="finetuned_weights.pt (рядом model.json)")
    parser.add_argument("--input", required=True, help="тексты в UTF-8, по одному на строку")
    parser.add_argument("--top-k", type=int, default=1)
    parser.add_argument("--output", help="файл .csv или .json (по умолчанию CSV в stdout)")
    args = parser.parse_args(argv)
    if args.top_k < 1:
        raise Stop("--top-k должно быть не меньше 1")
    if args.output and Path(args.output).suffix.lower() not in (".csv", ".json"):
        raise Stop(f"--output {args.output}: нужен файл .csv или .json")
    texts = read_texts(args.input)
    card = read_card(args.weights)
    from coursekit.notebook import load_defs  # torch and the notebook: seconds, so after the input checks
    sol = load_defs()
    model, tokenizer = load_model(args.weights, card, sol)
    write(predict(model, tokenizer, card, texts, args.top_k, sol), args.output)
    if args.output:
        print(f"{len(texts)} текстов, top-{args.top_k}: {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
