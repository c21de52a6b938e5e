"""Проверки к заданию «BERT и transfer learning».

Вызывайте `tests.test_*(...)` после каждого компонента. Проверка печатает одну строку
«✓ ...», если всё верно, и бросает AssertionError с описанием ошибки на русском, если нет.

Как устроены проверки (для любопытных):
- эталоны — независимые готовые реализации (nn.MultiheadAttention, nn.TransformerEncoderLayer,
  nn.LayerNorm, torch.optim.AdamW, F.cross_entropy) с вашими весами, скопированными внутрь,
  и формулы из текста задания; сравнение с явным допуском;
- слои внутри ваших модулей ищутся по роли (типу и размерам), а не по именам атрибутов;
- всё считается на CPU на маленьких размерах, с фиксированным seed; состояние генераторов
  случайных чисел вашего ноутбука восстанавливается после проверки.

В конце файла, за чертой «Ниже — механизм записи и воспроизведения проверок», — то, что нужно
только автопроверке (запись хода проверки в ядре и её воспроизведение у проверяющего, judge);
для решения задания его читать не нужно.
"""
import contextlib
import copy
import functools
import glob
import hashlib
import inspect
import io
import itertools
import logging
import math
import numbers
import os
import random
import shutil
import sys
import tempfile
import traceback
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    'test_tokenizer', 'test_dataset', 'test_collator', 'test_init_layer', 'test_bert_embeddings',
    'test_attention', 'test_feedforward', 'test_bert_layer', 'test_bert', 'test_mlm_head',
    'test_classifier_head', 'test_bert_model', 'test_optimizer', 'test_scheduler', 'test_trainer',
    'test_finetune_dataset', 'test_collate_fn', 'test_finetune_model', 'test_load_weights',
    'test_finetune_trainer', 'test_min_len', 'report_f1', 'check_predictions',
]

__test__ = False  # pytest: этот файл — не набор тестов

SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
NUM_SPECIAL = len(SPECIAL_TOKENS)
ATOL = 1e-5          # допуск для одного слоя во float32
ATOL_DEEP = 3e-5     # допуск для нескольких слоёв подряд и функций потерь
INIT_STD_RATIO = 0.8796  # std усечённого в [-2σ, 2σ] нормального распределения, в долях σ

# Маленькие размеры: все проверки вместе укладываются в несколько секунд на CPU.
H, HEADS, V, L, N_LAYERS = 32, 4, 101, 24, 2
I_SIZE = 4 * H

MASK_PROB = 0.15
# Полный балл за качество — при F1 на тесте не ниже этого порога. Балл считает проверяющая
# система (метки теста есть только у неё); здесь порог нужен лишь для подсказки.
F1_FULL_MARKS = 0.7
PREDICTIONS_MAX_MB = 50


class CheckError(AssertionError):
    """Проверка не пройдена: сообщение говорит, что ожидалось и что получено."""


# ----------------------------------------------------------------------------------------------
# Общая обвязка: тишина, seed, короткие сообщения
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet():
    """Ничего не пишет в stdout/stderr: предупреждения, прогресс-бары, логи transformers."""
    hf_logging, old_verbosity = None, None
    if 'transformers' in sys.modules:
        try:
            from transformers.utils import logging as hf_logging
            old_verbosity = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()
        except Exception:
            hf_logging = None
    old_disable = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # обработчики logging могут держать ссылку на настоящий stderr
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
    finally:
        logging.disable(old_disable)
        if hf_logging is not None:
            hf_logging.set_verbosity(old_verbosity)


@contextlib.contextmanager
def _seeded(seed):
    """Фиксирует seed внутри проверки и возвращает генераторы ноутбука в прежнее состояние."""
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed)
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


@contextlib.contextmanager
def _single_thread():
    """Тензоры в проверках крошечные: один поток быстрее (и не спорит за ядра с ноутбуком)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _check(component, seed=0):
    """Декоратор проверки: тишина, seed, одна строка об успехе, короткое сообщение об ошибке.

    Тело проверки выполняет _run_check (в конце файла, вместе с записью для автопроверки)."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            error = _run_check(wrapper, _kernel_session(fn.__name__), args, kwargs)
            if error is not None:
                raise error from None
            print(f'✓ {component}: все проверки пройдены')
        wrapper.component, wrapper.seed, wrapper.body = component, seed, fn
        return wrapper
    return decorator


def _where(exc):
    """Строка кода, где упало исключение (последний кадр), чтобы было видно место ошибки."""
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.abspath(__file__)
    frames = [f for f in frames if os.path.abspath(f.filename) != here] or frames
    if not frames:
        return ''
    f = frames[-1]
    line = f'\n  место: {os.path.basename(f.filename)}, строка {f.lineno}'
    if f.line:
        line += f': {f.line.strip()}'
    return line


@contextlib.contextmanager
def _tempdir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fail(message, hint=None):
    raise CheckError(message + (f'\n  Подсказка: {hint}' if hint else ''))


def _weights_sig(fn):
    return [(id(p), p._version, p.data_ptr()) for p in fn.parameters()] if isinstance(fn, nn.Module) else None


def _call(what, fn, *args, **kwargs):
    """Вызывает код студента; любое исключение превращает в понятное сообщение.

    При автопроверке результат и изменения переданных объектов записываются (запись), а при
    воспроизведении берутся из записи вместо вызова (см. «Запись и воспроизведение» в конце файла).
    Случайные числа torch код студента берёт из своего потока, проверка — из своего: иначе
    воспроизведение, где код студента не выполняется, разошлось бы с записью. Глобальными random
    и numpy проверка не пользуется, их поток студент продолжает как обычно."""
    session = _SESSION if _SESSION is not None else _Session('live', '')
    if session.depth:  # вызов внутри вызова студента: без записи
        return fn(*args, **kwargs)
    if session.mode != 'live':
        session.watch(fn, args, kwargs)
    before = _weights_sig(fn)
    if session.mode == 'replay':
        result = session.replay(what)
    else:
        error, result = None, None
        if session.mode == 'record' and not session.broken:
            session.refresh()
        generator = torch.default_generator
        check_rng = generator.get_state()
        if session.student_rng is None:
            generator.manual_seed(hash((session.seed_offset, 'student')) & 0x7FFFFFFF)
        else:
            generator.set_state(session.student_rng)
        session.depth += 1
        try:
            result = fn(*args, **kwargs)
        except NotImplementedError:
            error = f'{what}: не реализовано (NotImplementedError). Заполните шаблон.'
        except CheckError as e:
            error = str(e)
        except Exception as e:
            error = f'{what}: ошибка {type(e).__name__}: {e}{_where(e)}'
        finally:
            session.depth -= 1
            session.student_rng = generator.get_state()
            generator.set_state(check_rng)
        if session.mode == 'record':
            session.record(what, result, error)
        if error is not None:
            raise CheckError(error)
    if before is not None and _weights_sig(fn) != before:
        _fail(f'{what}: forward изменил веса модуля', 'forward не должен менять параметры модуля на месте')
    return result


def _require_class(obj, name):
    if obj is None:
        _fail(f'ожидался класс {name}, получено None')
    if not inspect.isclass(obj):
        _fail(f'ожидался класс {name}, получен объект типа {type(obj).__name__}',
              f'передайте сам класс: tests.test_...({name}), а не его экземпляр')


def _require_function(obj, name):
    if obj is None:
        _fail(f'ожидалась функция {name}, получено None')
    if inspect.isclass(obj) or not callable(obj):
        _fail(f'ожидалась функция {name}, получено {type(obj).__name__}')


def _construct(cls, name, *args, **kwargs):
    _require_class(cls, name)
    obj = _call(f'создание {name}(...)', cls, *args, **kwargs)
    return obj


def _module(cls, name, *args, **kwargs):
    obj = _construct(cls, name, *args, **kwargs)
    if not isinstance(obj, nn.Module):
        _fail(f'{name} должен наследоваться от nn.Module, получен {type(obj).__name__}')
    return obj


def _tensor(x, what, ndim=None, shape=None, floating=None):
    if not isinstance(x, torch.Tensor):
        _fail(f'{what}: ожидался torch.Tensor, получен {type(x).__name__}')
    if ndim is not None and x.dim() != ndim:
        _fail(f'{what}: ожидался тензор размерности {ndim}, получена форма {tuple(x.shape)}')
    if shape is not None and tuple(x.shape) != tuple(shape):
        _fail(f'{what}: ожидалась форма {tuple(shape)}, получена {tuple(x.shape)}')
    if floating is True and not x.is_floating_point():
        _fail(f'{what}: ожидался вещественный тензор, получен {x.dtype}')
    return x


def _compare(what, got, expected, atol=ATOL, hint=None, mask=None):
    """Сравнивает с эталоном: форма, конечность, максимум модуля разности."""
    _tensor(got, what, shape=expected.shape)
    got = got.detach().float().cpu()
    expected = expected.detach().float().cpu()
    if mask is not None:
        got, expected = got[mask], expected[mask]
    if not torch.isfinite(got).all():
        _fail(f'{what}: в выходе есть nan/inf', hint)
    diff = (got - expected).abs().max().item() if got.numel() else 0.0
    if not diff <= atol:
        _fail(f'{what}: не совпадает с эталоном: макс. |разница| = {diff:.3g} (допуск {atol:g})', hint)


def _int(x, what):
    """Целое число из int / bool / numpy / тензора из одного элемента (без сравнения через ==)."""
    if isinstance(x, torch.Tensor):
        if x.numel() != 1 or x.is_floating_point() and x.item() != int(x.item()):
            _fail(f'{what}: ожидалось целое число, получен тензор формы {tuple(x.shape)}')
        return int(x.item())
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (numbers.Integral, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return int(x)
    _fail(f'{what}: ожидалось целое число, получено {type(x).__name__}')


def _float(x, what):
    if isinstance(x, torch.Tensor):
        if x.numel() != 1:
            _fail(f'{what}: ожидалось число, получен тензор формы {tuple(x.shape)}')
        return float(x.detach().item())
    if isinstance(x, (numbers.Real, np.floating, np.integer)) and not isinstance(x, bool):
        return float(x)
    _fail(f'{what}: ожидалось число (float), получено {type(x).__name__}')


def _ids(x, what):
    """Список индексов токенов из list/tuple/np.ndarray/тензора."""
    if isinstance(x, torch.Tensor):
        if x.dim() != 1 or x.is_floating_point():
            _fail(f'{what}: ожидался одномерный целочисленный тензор, получен {x.dtype} формы {tuple(x.shape)}')
        return [int(v) for v in x.tolist()]
    if isinstance(x, np.ndarray):
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
            _fail(f'{what}: ожидался одномерный массив целых, получен {x.dtype} формы {x.shape}')
        return [int(v) for v in x.tolist()]
    if isinstance(x, (list, tuple)):
        return [_int(v, what) for v in x]
    _fail(f'{what}: ожидался список индексов, получен {type(x).__name__}')


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


def _check_params(name, module, expected, formula):
    got = _n_params(module)
    if got != expected:
        _fail(f'{name}: число параметров {got}, ожидалось {expected} = {formula}',
              'лишние/недостающие слои, bias или LayerNorm; слои не должны повторно использовать '
              'один и тот же объект')


def _describe(module):
    found = []
    for path, m in module.named_modules():
        if isinstance(m, nn.Linear):
            found.append(f'{path or "<корень>"}: Linear({m.in_features}, {m.out_features})')
        elif isinstance(m, nn.Embedding):
            found.append(f'{path or "<корень>"}: Embedding({m.num_embeddings}, {m.embedding_dim})')
        elif isinstance(m, nn.LayerNorm):
            found.append(f'{path or "<корень>"}: LayerNorm{tuple(m.normalized_shape)}')
    return '; '.join(found) if found else 'ни одного Linear/Embedding/LayerNorm'


# ----------------------------------------------------------------------------------------------
# Поиск слоёв по роли
# ----------------------------------------------------------------------------------------------

def _is_linear(m, i, o):
    return isinstance(m, nn.Linear) and m.in_features == i and m.out_features == o


def _is_ln(m, h):
    return isinstance(m, nn.LayerNorm) and tuple(m.normalized_shape) == (h,)


def _find(root, pred):
    return [(path, m) for path, m in root.named_modules() if pred(m)]


def _one(component, root, pred, role):
    found = _find(root, pred)
    if len(found) != 1:
        _fail(f'{component}: не удалось однозначно найти {role} (найдено {len(found)}). '
              f'Найдены слои: {_describe(root)}',
              'проверка ищет слои по типу и размерам; используйте nn.Linear/nn.Embedding/nn.LayerNorm '
              'с размерами из задания')
    return found[0][1]


def _contains(module, pred):
    return any(pred(m) for m in module.modules())


def _block(root, path, pred):
    """Ближайший предок модуля `path` (включая его самого), для которого выполнено pred."""
    modules = dict(root.named_modules())
    parts = path.split('.') if path else []
    for k in range(len(parts), -1, -1):
        candidate = modules.get('.'.join(parts[:k]))
        if candidate is not None and pred(candidate):
            return candidate
    return None


def _ln_params(ln):
    h = ln.normalized_shape[0]
    w = ln.weight if ln.weight is not None else torch.ones(h)
    b = ln.bias if ln.bias is not None else torch.zeros(h)
    return w.detach().clone(), b.detach().clone(), ln.eps


def _find_embeddings(component, root, vocab, max_len, hidden, type_vocab=2):
    def emb(n):
        return lambda m: isinstance(m, nn.Embedding) and m.num_embeddings == n and m.embedding_dim == hidden
    tok = _one(component, root, emb(vocab), f'эмбеддинги токенов nn.Embedding({vocab}, {hidden})')
    typ = _one(component, root, emb(type_vocab), f'сегментные эмбеддинги nn.Embedding({type_vocab}, {hidden})')
    pos_modules = _find(root, emb(max_len))
    emb_params = {id(p) for _, m in _find(root, lambda m: isinstance(m, nn.Embedding)) for p in m.parameters()}
    pos_params = [p for p in root.parameters() if tuple(p.shape) == (max_len, hidden) and id(p) not in emb_params]
    if len(pos_modules) + len(pos_params) != 1:
        _fail(f'{component}: не удалось найти позиционные эмбеддинги: ожидался nn.Embedding({max_len}, {hidden}) '
              f'или nn.Parameter формы ({max_len}, {hidden}). Найдены слои: {_describe(root)}')
    pos = pos_modules[0][1].weight if pos_modules else pos_params[0]
    return tok, pos, typ


def _embedding_weights(component, root, vocab, max_len, hidden, ln=None):
    tok, pos, typ = _find_embeddings(component, root, vocab, max_len, hidden)
    if ln is None:
        ln = _one(component, root, lambda m: _is_ln(m, hidden), f'LayerNorm({hidden}) эмбеддингов')
    return dict(tok=tok.weight.detach().clone(), pos=pos.detach().clone(), typ=typ.weight.detach().clone(),
                ln=_ln_params(ln))


def _ref_embeddings(w, input_ids, token_type_ids):
    """Эталон по тексту задания: сумма трёх эмбеддингов, затем LayerNorm (nn.functional)."""
    seqlen = input_ids.shape[1]
    summed = (F.embedding(input_ids, w['tok']) + F.embedding(token_type_ids, w['typ'])
              + w['pos'][:seqlen][None])
    g, b, eps = w['ln']
    return F.layer_norm(summed, (summed.shape[-1],), g, b, eps)


# Раскладки объединённой матрицы qkv: 'chunk' — [q; k; v] блоками по hidden (или их перестановка),
# 'head' — по головам: для каждой головы подряд q, k, v (view(B, S, heads, 3, d)).
_QKV_LAYOUTS = [('chunk', order) for order in itertools.permutations(range(3))] + \
               [('head', order) for order in itertools.permutations(range(3))]


def _split_qkv(weight, heads, layout):
    """Строки матрицы (3H x ...) -> тройка блоков в порядке, в котором их выдаёт слой студента."""
    kind, order = layout
    hidden3 = weight.shape[0]
    hidden = hidden3 // 3
    if kind == 'chunk':
        parts = list(weight.reshape(3, hidden, *weight.shape[1:]))
    else:
        d = hidden // heads
        w = weight.reshape(heads, 3, d, *weight.shape[1:])
        parts = [w[:, c].reshape(hidden, *weight.shape[1:]) for c in range(3)]
    return torch.cat([parts[order[0]], parts[order[1]], parts[order[2]]], dim=0)


def _attention_weights(component, block, hidden):
    qkv = _one(component, block, lambda m: _is_linear(m, hidden, 3 * hidden),
               f'объединённый линейный слой qkv nn.Linear({hidden}, {3 * hidden})')
    out = _one(component, block, lambda m: _is_linear(m, hidden, hidden),
               f'выходной линейный слой nn.Linear({hidden}, {hidden})')
    ln = _one(component, block, lambda m: _is_ln(m, hidden), f'LayerNorm({hidden})')
    if qkv.bias is None or out.bias is None:
        _fail(f'{component}: у линейных слоёв внимания должен быть bias')
    return dict(qkv_w=qkv.weight.detach().clone(), qkv_b=qkv.bias.detach().clone(),
                out_w=out.weight.detach().clone(), out_b=out.bias.detach().clone(), ln=_ln_params(ln))


def _ff_weights(component, block, hidden, inter):
    up = _one(component, block, lambda m: _is_linear(m, hidden, inter), f'nn.Linear({hidden}, {inter})')
    down = _one(component, block, lambda m: _is_linear(m, inter, hidden), f'nn.Linear({inter}, {hidden})')
    ln = _one(component, block, lambda m: _is_ln(m, hidden), f'LayerNorm({hidden})')
    return dict(up_w=up.weight.detach().clone(), up_b=up.bias.detach().clone(),
                down_w=down.weight.detach().clone(), down_b=down.bias.detach().clone(), ln=_ln_params(ln))


_ACTIVATIONS = {
    'relu': F.relu,
    'gelu': F.gelu,
    'gelu_tanh': functools.partial(F.gelu, approximate='tanh'),
}


def _encoder_layer(hidden, heads, inter, act, eps, att, ff, layout=('chunk', (0, 1, 2))):
    """nn.TransformerEncoderLayer (post-LN, как в BERT) с весами студента."""
    layer = nn.TransformerEncoderLayer(hidden, heads, inter, dropout=0.0, activation=_ACTIVATIONS[act],
                                       layer_norm_eps=eps, batch_first=True, norm_first=False)
    with torch.no_grad():
        if att is not None:
            layer.self_attn.in_proj_weight.copy_(_split_qkv(att['qkv_w'], heads, layout))
            layer.self_attn.in_proj_bias.copy_(_split_qkv(att['qkv_b'], heads, layout))
            layer.self_attn.out_proj.weight.copy_(att['out_w'])
            layer.self_attn.out_proj.bias.copy_(att['out_b'])
            layer.norm1.weight.copy_(att['ln'][0])
            layer.norm1.bias.copy_(att['ln'][1])
            layer.norm1.eps = att['ln'][2]
        if ff is not None:
            layer.linear1.weight.copy_(ff['up_w'])
            layer.linear1.bias.copy_(ff['up_b'])
            layer.linear2.weight.copy_(ff['down_w'])
            layer.linear2.bias.copy_(ff['down_b'])
            layer.norm2.weight.copy_(ff['ln'][0])
            layer.norm2.bias.copy_(ff['ln'][1])
            layer.norm2.eps = ff['ln'][2]
    # режим train при нулевом dropout: обычный (не «быстрый») путь, тот же результат
    return layer.train()


def _additive_mask(mask3, heads):
    """0/1-маска B x S x S -> аддитивная маска (B*heads) x S x S для nn.MultiheadAttention."""
    additive = torch.zeros(mask3.shape, dtype=torch.float32).masked_fill(mask3 == 0, float('-inf'))
    return additive.repeat_interleave(heads, dim=0)


def _ref_attention(layer, x, mask3, heads):
    """LN(x + MultiheadAttention(x)) — блок внимания nn.TransformerEncoderLayer."""
    out = layer.self_attn(x, x, x, attn_mask=_additive_mask(mask3, heads), need_weights=False)[0]
    return layer.norm1(x + out)


def _ref_ff(layer, x):
    """LN(x + W2 act(W1 x)) — полносвязный блок nn.TransformerEncoderLayer."""
    return layer.norm2(x + layer.linear2(layer.activation(layer.linear1(x))))


def _ref_layer(layer, x, mask3, heads):
    return layer(x, src_mask=_additive_mask(mask3, heads))


def _expand(mask2):
    """B x S -> B x S x S: mask[b, i, j] = 1, если ключ j — настоящий токен."""
    return mask2[:, None, :].expand(mask2.shape[0], mask2.shape[1], mask2.shape[1]).clone()


def _randomize(module, scale=1.0):
    """Заменяет веса на «крупные» случайные, чтобы ошибки были видны (на месте, без градиента)."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):
                if m.weight is not None:
                    m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                if m.bias is not None:
                    m.bias.copy_(0.2 * torch.randn_like(m.bias))
        for p in module.parameters():
            if any(p is q for m in module.modules() if isinstance(m, nn.LayerNorm) for q in m.parameters()):
                continue
            if p.dim() >= 2:
                p.copy_(torch.randn_like(p) * scale / math.sqrt(p.shape[-1]))
            else:
                p.copy_(0.3 * torch.randn_like(p))


def _init_stats(name, weight, std=0.02, min_n_for_std=4000):
    """Проверка усечённой нормальной инициализации: границы ±2σ, std ≈ 0.8796σ, среднее ≈ 0."""
    w = weight.detach().float().flatten()
    limit = 2 * std * (1 + 1e-4) + 1e-7
    if w.abs().max().item() > limit:
        _fail(f'{name}: есть веса с |w| = {w.abs().max().item():.4g} > 2·std = {2 * std:g}',
              f'инициализируйте через init_layer: nn.init.trunc_normal_(w, std={std:g}, a=-2*std, b=2*std)')
    n = w.numel()
    if n >= min_n_for_std:
        sample_std = w.std().item()
        expected = INIT_STD_RATIO * std
        tol = 7 * math.sqrt(0.4 / n)  # ~7 стандартных ошибок выборочного std
        if abs(sample_std / expected - 1) > tol:
            _fail(f'{name}: выборочное std весов {sample_std:.4g}, ожидалось ≈ {expected:.4g} '
                  f'(0.8796·{std:g} для усечённого нормального), допуск {tol:.1%}',
                  'std усечённого в [-2σ, 2σ] нормального распределения меньше σ; '
                  'проверьте initializer_range и границы a, b')
        if abs(w.mean().item()) > 7 * expected / math.sqrt(n):
            _fail(f'{name}: среднее весов {w.mean().item():.3g} далеко от 0')


def _check_zero(name, tensor):
    if tensor is None:
        return
    if tensor.detach().abs().max().item() != 0:
        _fail(f'{name}: bias должен быть инициализирован нулями', 'init_layer(layer) обнуляет bias')


def _dropout_behaviour(name, run, what, hint=None):
    """run() -> тензор; в режиме train с dropout > 0 два вызова должны различаться."""
    a, b = run(), run()
    if torch.equal(a.detach(), b.detach()):
        _fail(f'{name}: в режиме train при {what} > 0 два прохода дали одинаковый результат',
              hint or f'dropout ({what}) не применяется')


def _zero_fraction(out):
    return (out.detach() == 0).float().mean().item()


def _check_dropout_before_ln(name, out):
    """LN(x + dropout(f(x))): в выходе LayerNorm нулей нет; dropout после LN обнулил бы около половины."""
    zeros = _zero_fraction(out)
    if zeros > 0.1:
        _fail(f'{name}: при dropout_prob=0.5 в режиме train {zeros:.0%} выхода — нули',
              'dropout применяется к выходу подслоя до остаточной связи и LayerNorm: LN(x + dropout(...))')


def _check_block_dropout(name, build, hidden_arg, hint):
    """build(**kwargs) -> модуль со слоями BERT; hidden_arg (dropout выхода подслоёв) и
    attention_probs_dropout_prob доходят до первого блока внимания и полносвязного блока.
    hint — шаблон подсказки с {arg} и {block}."""
    x, _, mask3 = _layer_inputs()
    for arg in (hidden_arg, 'attention_probs_dropout_prob'):
        module = build(**{arg: 0.5})
        module.train()
        atts, ffs = _layers_of(name, module)
        blocks = [('блок внимания', 'MultiHeadSelfAttention', lambda: _call('блок внимания в режиме train',
                                                                             atts[0], x, mask3))]
        if arg == hidden_arg:
            blocks.append(('полносвязный блок', 'FeedForward', lambda: _call('FeedForward в режиме train', ffs[0], x)))
        for what, block, run in blocks:
            _dropout_behaviour(f'{name}: {what}', run, arg, hint.format(arg=arg, block=block))


def _check_eps_passed(name, module, eps=0.5):
    """Каждый nn.LayerNorm внутри модуля, построенного с eps, получил именно этот eps."""
    wrong = sorted({m.eps for m in module.modules() if isinstance(m, nn.LayerNorm) and m.eps != eps})
    if wrong:
        _fail(f'{name}(..., eps={eps}): у части LayerNorm eps = {wrong[0]:g}, ожидалось {eps}',
              'передайте eps во все вложенные модули, вплоть до nn.LayerNorm(..., eps=eps)')


def _with_eps(weights, eps):
    """Веса слоя с eps LayerNorm из аргумента конструктора (а не из слоя студента)."""
    return dict(weights, ln=(*weights['ln'][:2], eps))


# ----------------------------------------------------------------------------------------------
# Часть 1. Данные
# ----------------------------------------------------------------------------------------------

_COMMON_WORDS = ['молоко', 'хлеб', 'сыр', 'масло', 'вода', 'кофе', 'шоколад', 'пакет']

# Небольшой корпус «чеков» для проверки PretrainDataset/FinetuneDataset на ваших классах
_RECEIPTS = [
    'МОЛОКО ПАСТЕРИЗОВАННОЕ 3,2% 930МЛ ПРОСТОКВАШИНО',
    'хлеб',
    'СЫР РОССИЙСКИЙ 45% ВЕС',
    'ПАКЕТ',
    'КОФЕ МОЛОТЫЙ ЖОКЕЙ ТРАДИЦИОННЫЙ 250Г В/У',
    'ШОКОЛАД МОЛОЧНЫЙ АЛЬПЕН ГОЛЬД С ФУНДУКОМ 85Г',
    'МАСЛО СЛИВОЧНОЕ 82,5% 180Г ЭКОМИЛК',
    'ВОДА МИН. ГАЗ. 1,5Л',
    'Чай черный байховый листовой 100 пак. по 2г',
    'СОК ЯБЛОЧНЫЙ ОСВЕТЛЕННЫЙ 1Л ДОБРЫЙ',
    'КОЛБАСА ДОКТОРСКАЯ ВАРЕНАЯ 500Г',
    'йогурт',
    'СМЕТАНА 20% 315Г ДОМИК В ДЕРЕВНЕ',
    'ТВОРОГ 9% 200Г',
    'БАНАНЫ ВЕС',
    'Зубная паста отбеливающая 100 мл',
    'ПЕЛЬМЕНИ СИБИРСКИЕ ГОВЯДИНА СВИНИНА 800Г ЗАМОРОЖЕННЫЕ',
    'КЕФИР 2,5% 1Л',
    'САХАР-ПЕСОК 1КГ',
    'МУКА ПШЕНИЧНАЯ ВЫСШИЙ СОРТ 2КГ МАКФА',
    'ЯЙЦА КУРИНЫЕ С1 10ШТ',
    'ГРЕЧКА ЯДРИЦА 900Г',
    'МАКАРОНЫ СПАГЕТТИ 450Г БАРИЛЛА',
    'ПИВО СВЕТЛОЕ ЖИГУЛЕВСКОЕ 4,5% 0,5Л Ж/Б',
    'СИГАРЕТЫ',
    'СЕЛЬДЬ ФИЛЕ В МАСЛЕ 250Г',
    'ПЕЧЕНЬЕ ЮБИЛЕЙНОЕ МОЛОЧНОЕ 112Г',
    'ШАМПУНЬ ДЛЯ ВОЛОС ПРОТИВ ПЕРХОТИ 400МЛ',
    'КАРТОФЕЛЬ МОЛОДОЙ ВЕС 1КГ',
    'ОГУРЦЫ КОРНИШОНЫ МАРИНОВАННЫЕ 720МЛ СТ/Б',
    'МАЙОНЕЗ ПРОВАНСАЛЬ 67% 400МЛ',
    'СОСИСКИ МОЛОЧНЫЕ ГОСТ 470Г',
    'ЛИМОНАД',
    'КРУПА РИС КРУГЛОЗЕРНЫЙ 800Г',
    'ТУАЛЕТНАЯ БУМАГА ДВУХСЛОЙНАЯ 4 РУЛОНА',
    'СМЕСЬ ОВОЩНАЯ ЗАМОРОЖЕННАЯ МЕКСИКАНСКАЯ 400Г',
]


def _tokenizer_ids(tokenizer):
    ids = {}
    for attr in ['pad_token_id', 'cls_token_id', 'sep_token_id', 'mask_token_id', 'vocab_size']:
        value = _call(f'tokenizer.{attr}', getattr, tokenizer, attr)
        ids[attr] = _int(value, f'tokenizer.{attr}')
    return ids


def _tok(tokenizer, text, what='tokenizer(text)'):
    return _ids(_call(f'{what} для {text!r}', tokenizer, text), what)


@_check('WordpieceTokenizer')
def test_tokenizer(tokenizer):
    if tokenizer is None:
        _fail('токенизатор: не реализовано (получено None вместо токенизатора)',
              'заполните ячейку, которая создаёт tokenizer через WordpieceTokenizer.from_corpus(...), и выполните её')
    if inspect.isclass(tokenizer):
        _fail('передайте объект токенизатора (результат WordpieceTokenizer.from_corpus(...)), а не класс')
    if not callable(tokenizer):
        _fail(f'токенизатор должен вызываться как tokenizer(text), получен {type(tokenizer).__name__}')
    ids = _tokenizer_ids(tokenizer)
    vocab_size = ids['vocab_size']
    if vocab_size <= 100:
        _fail(f'размер словаря {vocab_size}: словарь не загрузился (ожидались тысячи токенов)',
              'в transformers 5.x аргумент BertTokenizerFast(vocab_file=...) молча игнорируется и '
              'получается словарь из 5 специальных токенов; передавайте путь как vocab=...')
    expected = {'pad_token_id': 0, 'cls_token_id': 2, 'sep_token_id': 3, 'mask_token_id': 4}
    for attr, want in expected.items():
        if ids[attr] != want:
            _fail(f'tokenizer.{attr} = {ids[attr]}, ожидалось {want}',
                  'специальные токены должны быть первыми в словаре, в порядке '
                  '[PAD] [UNK] [CLS] [SEP] [MASK] (аргумент special_tokens при обучении)')
    unk = _tok(tokenizer, '[UNK]')
    if unk != [1]:
        _fail(f"tokenizer('[UNK]') = {unk}, ожидалось [1]: [UNK] должен иметь индекс 1",
              'special_tokens=[\'[PAD]\', \'[UNK]\', \'[CLS]\', \'[SEP]\', \'[MASK]\']')
    text = ' '.join(_COMMON_WORDS)
    encoded = _tok(tokenizer, text)
    if not encoded:
        _fail(f'tokenizer({text!r}) вернул пустой список')
    if any(i in (0, 2, 3, 4) for i in encoded):
        _fail(f'tokenizer(text) = {encoded}: в результате есть специальные токены',
              '__call__ должен кодировать без специальных токенов (add_special_tokens=False)')
    if any(not 0 <= i < vocab_size for i in encoded):
        _fail(f'tokenizer(text) = {encoded}: индексы вне словаря [0, {vocab_size})')
    unknown = [w for w in _COMMON_WORDS if 1 in _tok(tokenizer, w)]
    if len(unknown) > len(_COMMON_WORDS) // 2:
        _fail(f'частые слова из чеков превращаются в [UNK]: {unknown}',
              'словарь не загрузился или обучен не на корпусе (vocab=..., а не vocab_file=...)')
    for upper, lower in [('МОЛОКО ХЛЕБ', 'молоко хлеб'), ('Сыр Российский', 'сыр российский')]:
        if _tok(tokenizer, upper) != _tok(tokenizer, lower):
            _fail(f'{upper!r} и {lower!r} кодируются по-разному: нет приведения к нижнему регистру',
                  'lowercase=True')
    if _tok(tokenizer, 'café') != _tok(tokenizer, 'cafe'):
        _fail("'café' и 'cafe' кодируются по-разному: акценты не удаляются", 'strip_accents=True')
    if _tok(tokenizer, 'молоко\x00\x01 хлеб') != _tok(tokenizer, 'молоко хлеб'):
        _fail('управляющие символы не удаляются при токенизации', 'clean_text=True')


@_check('MIN_LEN')
def test_min_len(min_len):
    """MIN_LEN — наименьшее n, при котором P(выбран хотя бы один из n токенов) >= 0.5."""
    n = _int(min_len, 'MIN_LEN')

    def covered(k):  # вероятность выбрать хотя бы один из k токенов
        return 1 - (1 - MASK_PROB) ** k

    if covered(n) < 0.5:
        _fail(f'при n = {n} вероятность выбрать хотя бы один токен {covered(n):.3f} < 0.5',
              'длина мала: вероятность, что ни один из n токенов не выбран, равна 0.85^n')
    if n > 1 and covered(n - 1) >= 0.5:
        _fail(f'уже при n = {n - 1} вероятность {covered(n - 1):.3f} >= 0.5, а нужна наименьшая длина',
              'возьмите наименьшее n, при котором 1 - 0.85^n >= 0.5')


def _pretrain_item(item, what, tokenizer_ids):
    """Разбор ds[i] -> (left, right, permuted) с проверкой раскладки [CLS] A [SEP] B [SEP]."""
    if not isinstance(item, (tuple, list)) or len(item) != 3:
        _fail(f'{what}: ожидался кортеж (input_ids, token_type_ids, permuted), '
              f'получено {type(item).__name__}' + (f' длины {len(item)}' if isinstance(item, (tuple, list)) else ''))
    input_ids, token_type_ids, permuted = item
    _tensor(input_ids, f'{what}: input_ids', ndim=1)
    _tensor(token_type_ids, f'{what}: token_type_ids', ndim=1)
    if input_ids.dtype != torch.long or token_type_ids.dtype != torch.long:
        _fail(f'{what}: input_ids и token_type_ids должны быть torch.long, '
              f'получено {input_ids.dtype} и {token_type_ids.dtype}',
              'nn.Embedding и функция потерь ждут индексы torch.long; encode_batch даёт массивы numpy int32, '
              'torch.tensor(ids, dtype=torch.long)')
    if token_type_ids.shape != input_ids.shape:
        _fail(f'{what}: формы input_ids {tuple(input_ids.shape)} и token_type_ids '
              f'{tuple(token_type_ids.shape)} различаются')
    permuted = _int(permuted, f'{what}: permuted')
    if permuted not in (0, 1):
        _fail(f'{what}: permuted = {permuted}, ожидалось 0 или 1')
    ids = input_ids.tolist()
    types = token_type_ids.tolist()
    cls_id, sep_id = tokenizer_ids['cls_token_id'], tokenizer_ids['sep_token_id']
    if len(ids) < 3 or ids[0] != cls_id:
        _fail(f'{what}: input_ids = {ids}: первым должен идти [CLS] (индекс {cls_id})')
    if ids[-1] != sep_id or ids.count(sep_id) != 2:
        _fail(f'{what}: input_ids = {ids}: ожидалась раскладка [CLS] A [SEP] B [SEP] '
              f'(ровно два [SEP] = {sep_id}, последний в конце)')
    sep = ids.index(sep_id)
    left, right = ids[1:sep], ids[sep + 1:-1]
    specials = set(range(NUM_SPECIAL)) - {1}
    if any(t in specials for t in left + right):
        _fail(f'{what}: input_ids = {ids}: внутри сегментов есть специальные токены')
    expected_types = [0] * (sep + 1) + [1] * (len(ids) - sep - 1)
    if types != expected_types:
        _fail(f'{what}: token_type_ids = {types}, ожидалось {expected_types}',
              '0 для [CLS] A [SEP], 1 для B [SEP]')
    if abs(len(left) - len(right)) > 1:
        _fail(f'{what}: длины сегментов {len(left)} и {len(right)} отличаются больше чем на 1',
              'окно делится пополам: left = window[:n // 2], right = window[n // 2:]')
    return left, right, permuted


def _contiguous(window, seqs):
    n = len(window)
    for s in seqs:
        for start in range(len(s) - n + 1):
            if s[start:start + n] == window:
                return True
    return False


def _make_dataset(cls, corpus, tokenizer, minlen, maxlen, **kwargs):
    return _call(f'создание {cls.__name__}(corpus, tokenizer, minlen={minlen}, maxlen={maxlen}, '
                 f'{", ".join(f"{k}={v}" for k, v in kwargs.items())})',
                 cls, list(corpus), tokenizer, minlen, maxlen, **kwargs)


def _dataset_len(ds, what):
    n = _call(f'len({what})', len, ds)
    return _int(n, f'len({what})')


@_check('PretrainDataset')
def test_dataset(ds):
    if ds is None or inspect.isclass(ds):
        _fail('передайте объект датасета PretrainDataset(...), а не ' + ('None' if ds is None else 'класс'))
    tokenizer = _call('ds.tokenizer', getattr, ds, 'tokenizer')
    ids = _tokenizer_ids(tokenizer)
    n = _dataset_len(ds, 'ds')
    if n <= 0:
        _fail('датасет пуст (len(ds) == 0)', 'minlen слишком большой или тексты не сохранены')
    # 1. ваш датасет: раскладка на нескольких объектах
    for idx in sorted(set(np.linspace(0, n - 1, num=min(n, 40)).astype(int).tolist())):
        _pretrain_item(_call(f'ds[{idx}]', ds.__getitem__, idx), f'ds[{idx}]', ids)

    cls = type(ds)
    tokenized = [_tok(tokenizer, t) for t in _RECEIPTS]
    minlen, maxlen = 3, 6
    kept = [t for t in tokenized if len(t) >= minlen]
    if len(kept) < 10:
        _fail('токенизатор разбивает тестовые тексты на слишком мало токенов; проверьте test_tokenizer')

    # 2. фильтрация по minlen и окна
    small = _make_dataset(cls, _RECEIPTS, tokenizer, minlen, maxlen)
    m = _dataset_len(small, 'датасет')
    if m != len(kept):
        _fail(f'на {len(_RECEIPTS)} тестовых текстах с minlen={minlen} в датасете {m} объектов, '
              f'ожидалось {len(kept)} (текстов, в которых не меньше {minlen} токенов)',
              'оставляйте тексты, в которых len(tokenizer(text)) >= minlen')
    # граница: minlen равен длине, которая встречается среди текстов, — такие тексты остаются
    present = sorted({len(t) for t in tokenized if len(t) >= minlen})
    edge = present[len(present) // 2]
    edge_ds = _make_dataset(cls, _RECEIPTS, tokenizer, edge, maxlen)
    got, want = _dataset_len(edge_ds, 'датасет'), sum(len(t) >= edge for t in tokenized)
    if got != want:
        _fail(f'на {len(_RECEIPTS)} тестовых текстах с minlen={edge} в датасете {got} объектов, ожидалось {want} '
              f'(текстов, в которых не меньше {edge} токенов; из них {sum(len(t) == edge for t in tokenized)} '
              f'ровно из {edge})', 'условие len(tokenizer(text)) >= minlen: текст ровно из minlen токенов остаётся')
    swaps, total = 0, 0
    for rep in range(40):
        for idx in range(m):
            what = f'ds[{idx}] (тестовый корпус, maxlen={maxlen})'
            left, right, permuted = _pretrain_item(_call(what, small.__getitem__, idx), what, ids)
            window = right + left if permuted else left + right
            if len(window) > maxlen:
                _fail(f'{what}: окно из {len(window)} токенов длиннее maxlen={maxlen}',
                      'maxlen ограничивает число токенов текста (без [CLS]/[SEP])')
            if len(window) < min(minlen, 2):
                _fail(f'{what}: окно из {len(window)} токенов слишком короткое')
            if not _contiguous(window, kept):
                swapped = left + right if permuted else right + left
                hint = ('permuted не соответствует тому, были ли сегменты переставлены'
                        if _contiguous(swapped, kept) else
                        'окно должно быть непрерывным куском tokenizer(text) (A и B — его половины)')
                _fail(f'{what}: сегменты A={left}, B={right}, permuted={permuted} '
                      f'не складываются в непрерывный кусок токенизированного текста', hint)
            swaps += permuted
            total += 1
    rate = swaps / total
    margin = 7 * math.sqrt(0.25 / total)
    if abs(rate - 0.5) > margin:
        _fail(f'доля переставленных пар {rate:.3f} на {total} объектах, ожидалось 0.5 ± {margin:.3f} '
              f'(permute_prob=0.5)', 'random.random() < permute_prob')
    for prob in (0.0, 1.0):
        ds_p = _make_dataset(cls, _RECEIPTS, tokenizer, minlen, maxlen, permute_prob=prob)
        flags = [_pretrain_item(_call('ds[i]', ds_p.__getitem__, i), f'ds[{i}]', ids)[2]
                 for i in range(_dataset_len(ds_p, 'датасет')) for _ in range(5)]
        if any(f != int(prob) for f in flags):
            _fail(f'при permute_prob={prob} доля перестановок {np.mean(flags):.2f}, ожидалось {prob}',
                  'используйте переданный permute_prob (перестановка с вероятностью permute_prob)')

    # 3. длинные тексты: случайное окно пробегает все позиции; короткие берутся целиком
    longest = max(kept, key=len)
    width = len(longest) - 3
    one = _make_dataset(cls, [_RECEIPTS[tokenized.index(longest)]], tokenizer, 1, width)
    starts = set()
    for _ in range(300):
        left, right, permuted = _pretrain_item(_call('ds[0]', one.__getitem__, 0), 'ds[0]', ids)
        window = right + left if permuted else left + right
        if len(window) != width:
            _fail(f'для текста из {len(longest)} токенов при maxlen={width} окно из {len(window)} токенов, '
                  f'ожидалось {width}', 'окно — min(len(text), maxlen) подряд идущих токенов')
        found = [s for s in range(len(longest) - width + 1) if longest[s:s + width] == window]
        starts.update(found[:1])
    if starts != set(range(len(longest) - width + 1)):
        _fail(f'начало окна принимает значения {sorted(starts)}, ожидались все '
              f'{list(range(len(longest) - width + 1))}',
              'случайное начало окна: random.randint(0, len(ids) - length) (правая граница включительно)')
    full = _make_dataset(cls, _RECEIPTS, tokenizer, minlen, 10 ** 6, presort=True)
    lengths = []
    for idx in range(_dataset_len(full, 'датасет')):
        left, right, permuted = _pretrain_item(_call(f'ds[{idx}]', full.__getitem__, idx), f'ds[{idx}]', ids)
        window = right + left if permuted else left + right
        if window not in kept:
            _fail(f'при maxlen больше длины текста ds[{idx}] должен содержать весь текст, '
                  f'получено окно из {len(window)} токенов')
        lengths.append(len(window))
    if lengths != sorted(lengths):
        _fail(f'presort=True: длины текстов по порядку {lengths} не отсортированы по возрастанию',
              'ds[0] должен быть самым коротким текстом')
    if sorted(lengths) != sorted(len(t) for t in kept):
        _fail('presort=True: набор текстов изменился после сортировки')
    # 4. set_maxlen
    reduced = _call('copy.copy(ds)', copy.copy, full)
    _call('ds.set_maxlen(4)', reduced.set_maxlen, 4)
    for idx in range(_dataset_len(reduced, 'датасет')):
        left, right, _ = _pretrain_item(_call(f'ds[{idx}]', reduced.__getitem__, idx), f'ds[{idx}]', ids)
        if len(left) + len(right) > 4:
            _fail(f'после set_maxlen(4) окно из {len(left) + len(right)} токенов', 'используйте self._maxlen')


def _synthetic_items(num, vocab_size, rng, min_len=10, max_len=40):
    """Объекты как у PretrainDataset: [CLS] A [SEP] B [SEP] с обычными токенами из [5, V)."""
    items = []
    for _ in range(num):
        n = int(rng.integers(min_len, max_len + 1))
        text = rng.integers(NUM_SPECIAL, vocab_size, size=n).tolist()
        left, right = text[:n // 2], text[n // 2:]
        ids = [2] + left + [3] + right + [3]
        types = [0] * (len(left) + 2) + [1] * (len(right) + 1)
        items.append((torch.tensor(ids, dtype=torch.long), torch.tensor(types, dtype=torch.long),
                      int(rng.integers(0, 2))))
    return items


def _kind(value):
    """Тип полученного значения для сообщения: «tuple из 3 элементов», «Tensor»."""
    if isinstance(value, (tuple, list)):
        return f'{type(value).__name__} из {len(value)} элементов'
    return type(value).__name__


def _collate_checked(collator, items, what, pad_id, non_target, vocab_size):
    """Вызов коллатора и детерминированные свойства результата; возвращает статистику."""
    batch = [(a.clone(), b.clone(), c) for a, b, c in items]
    out = _call(what, collator, batch)
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        _fail(f'{what}: ожидался кортеж (input_ids, token_type_ids, labels, permuted), '
              f'получено {type(out).__name__}')
    input_ids, token_type_ids, labels, permuted = out
    bsz, seqlen = len(items), max(len(a) for a, _, _ in items)
    _tensor(input_ids, f'{what}: input_ids', shape=(bsz, seqlen))
    _tensor(token_type_ids, f'{what}: token_type_ids', shape=(bsz, seqlen))
    _tensor(labels, f'{what}: labels', shape=(bsz, seqlen))
    _tensor(permuted, f'{what}: permuted', shape=(bsz,))
    for name, t in [('input_ids', input_ids), ('token_type_ids', token_type_ids), ('labels', labels)]:
        if t.is_floating_point():
            _fail(f'{what}: {name} должен быть целочисленным (torch.long), получен {t.dtype}')
    if not torch.equal(permuted.detach().float().cpu(), torch.tensor([float(c) for _, _, c in items])):
        _fail(f'{what}: permuted = {permuted.detach().cpu().tolist()}, а у объектов батча '
              f'{[c for _, _, c in items]}')
    orig = torch.full((bsz, seqlen), pad_id, dtype=torch.long)
    real = torch.zeros(bsz, seqlen, dtype=torch.bool)
    for i, (a, b, _) in enumerate(items):
        orig[i, :len(a)] = a
        real[i, :len(a)] = True
        if not torch.equal(token_type_ids[i, :len(a)].long().cpu(), b):
            _fail(f'{what}: token_type_ids в строке {i} = {token_type_ids[i, :len(a)].long().cpu().tolist()}, '
                  f'у объекта батча {b.tolist()}')
    input_ids, labels = input_ids.long().cpu(), labels.long().cpu()
    if not torch.equal(input_ids[~real], orig[~real]):
        _fail(f'{what}: паддинг input_ids должен быть pad_token_id = {pad_id}',
              'pad_sequence(..., batch_first=True, padding_value=tokenizer.pad_token_id)')
    eligible = real & (orig >= NUM_SPECIAL)
    target = labels != non_target
    if (target & ~eligible).any():
        where = 'паддинг' if (target & ~real).any() else 'специальные токены [CLS]/[SEP]'
        _fail(f'{what}: целями (labels != {non_target}) выбраны {where}',
              'специальные токены и паддинг не маскируются; labels = non_target_idx на них')
    if not torch.equal(labels[target], orig[target]):
        row, col = (target & (labels != orig)).nonzero()[0].tolist()
        _fail(f'{what}: labels на целевых позициях должны быть исходными индексами токенов: '
              f'в строке {row}, позиции {col} label = {labels[row, col].item()}, а исходный токен '
              f'{orig[row, col].item()}')
    if not torch.equal(input_ids[~target], orig[~target]):
        _fail(f'{what}: изменены токены, которые не выбраны целями (labels = {non_target})',
              'заменять на [MASK]/случайный токен можно только выбранные цели')
    changed = target & (input_ids != orig)
    masked = changed & (input_ids == 4)
    randomized = changed & (input_ids != 4)
    bad = input_ids[randomized]
    if bad.numel() and (bad.min().item() < NUM_SPECIAL or bad.max().item() >= vocab_size):
        _fail(f'{what}: случайные замены вне диапазона [{NUM_SPECIAL}, {vocab_size}): '
              f'встречено {bad.min().item()}..{bad.max().item()}',
              'torch.randint_like(input_ids, low=5, high=vocab_size): специальные токены (0–4) не выбираются')
    return dict(eligible=int(eligible.sum()), target=int(target.sum()), masked=int(masked.sum()),
                random=int(randomized.sum()), kept=int((target & ~changed).sum()))


@_check('Collator')
def test_collator(ds, collator):
    if collator is None or inspect.isclass(collator):
        _fail('передайте объект Collator(tokenizer, ...), а не ' + ('None' if collator is None else 'класс'))
    if ds is None or inspect.isclass(ds):
        _fail('первым аргументом передайте объект датасета PretrainDataset')
    tokenizer = _call('ds.tokenizer', getattr, ds, 'tokenizer')
    ids = _tokenizer_ids(tokenizer)
    vocab_size, pad_id = ids['vocab_size'], ids['pad_token_id']
    # 1. ваш коллатор на объектах вашего датасета
    n = _dataset_len(ds, 'ds')
    real_items = [_call(f'ds[{i}]', ds.__getitem__, i) for i in range(min(n, 8))]
    out = _call('collator([ds[i] for i in range(8)])', collator, real_items)
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        _fail('collator(batch) должен возвращать (input_ids, token_type_ids, labels, permuted), '
              f'получено {_kind(out)}')
    seqlen = max(len(item[0]) for item in real_items)
    for name, t in zip(['input_ids', 'token_type_ids', 'labels'], out[:3]):
        _tensor(t, f'collator(batch): {name}', shape=(len(real_items), seqlen))
    # 2. статистика на синтетических объектах, на новых коллаторах с заданными параметрами
    cls = type(collator)
    rng = np.random.default_rng(1234)
    configs = [
        dict(non_target_idx=-100, mask_prob=0.15, random_prob=0.1, keep_unchanged_prob=0.1),
        dict(non_target_idx=-7, mask_prob=0.3, random_prob=0.2, keep_unchanged_prob=0.3),
    ]
    for config in configs:
        signature = ', '.join(f'{k}={v}' for k, v in config.items())
        fresh = _call(f'{cls.__name__}(tokenizer, {signature})', cls, tokenizer, **config)
        totals = dict(eligible=0, target=0, masked=0, random=0, kept=0)
        for b in range(14):
            items = _synthetic_items(64, vocab_size, rng)
            stats = _collate_checked(fresh, items, f'{cls.__name__}({signature})(batch)', pad_id,
                                     config['non_target_idx'], vocab_size)
            for k in totals:
                totals[k] += stats[k]
        p = config['mask_prob']
        share = totals['target'] / totals['eligible']
        margin = 7 * math.sqrt(p * (1 - p) / totals['eligible'])
        if abs(share - p) > margin:
            _fail(f'{cls.__name__}({signature}): доля целей среди обычных токенов {share:.4f}, '
                  f'ожидалось {p} ± {margin:.4f} ({totals["eligible"]} токенов без паддинга и специальных)',
                  'каждый обычный токен выбирается целью независимо с вероятностью mask_prob; '
                  'паддинг и специальные токены не считаются')
        collide = 1 / (vocab_size - NUM_SPECIAL)  # случайный токен может совпасть с исходным
        r, k = config['random_prob'], config['keep_unchanged_prob']
        expected = dict(masked=1 - r - k, random=r * (1 - collide), kept=k + r * collide)
        names = dict(masked='заменены на [MASK]', random='заменены случайным токеном', kept='оставлены как есть')
        for key, q in expected.items():
            got = totals[key] / totals['target']
            margin = 7 * math.sqrt(q * (1 - q) / totals['target'])
            if abs(got - q) > margin:
                _fail(f'{cls.__name__}({signature}): среди {totals["target"]} целей {names[key]} '
                      f'{got:.3f}, ожидалось {q:.3f} ± {margin:.3f}',
                      'из выбранных целей: random_prob — случайный токен, keep_unchanged_prob — без изменений, '
                      'остальные — [MASK]')


# ----------------------------------------------------------------------------------------------
# Часть 2. Модель
# ----------------------------------------------------------------------------------------------

@_check('init_layer')
def test_init_layer(init_layer):
    _require_function(init_layer, 'init_layer')
    for std in (0.02, 0.05):
        layer = nn.Linear(256, 512)
        with torch.no_grad():
            layer.bias.fill_(0.5)
        _call(f'init_layer(nn.Linear(256, 512), initializer_range={std})', init_layer, layer,
              initializer_range=std)
        if not isinstance(layer.weight, nn.Parameter) or not layer.weight.requires_grad:
            _fail('после init_layer weight должен остаться обучаемым nn.Parameter',
                  'меняйте значения на месте: nn.init.trunc_normal_(layer.weight, ...) под torch.no_grad()')
        _init_stats(f'init_layer(Linear, initializer_range={std}): weight', layer.weight, std)
        w = layer.weight.detach().flatten()
        share = (w.abs() <= std).float().mean().item()
        expected = 0.6827 / 0.9545
        if abs(share - expected) > 0.01:
            _fail(f'init_layer(Linear, initializer_range={std}): доля весов в [-σ, σ] {share:.3f}, '
                  f'ожидалось {expected:.3f} (усечённое нормальное)',
                  'nn.init.trunc_normal_(w, std=σ, a=-2σ, b=2σ)')
        if layer.bias.detach().abs().max().item() != 0:
            _fail('init_layer(Linear): bias не обнулён (zero_out_bias=True по умолчанию)',
                  'layer.bias.data.zero_()')
    layer = nn.Linear(64, 64)
    bias_before = layer.bias.detach().clone()
    _call('init_layer(nn.Linear(64, 64), zero_out_bias=False)', init_layer, layer, zero_out_bias=False)
    if not torch.equal(layer.bias.detach(), bias_before):
        _fail('init_layer(..., zero_out_bias=False) изменил bias', 'при zero_out_bias=False bias не трогаем')
    emb = nn.Embedding(1000, 64)
    _call('init_layer(nn.Embedding(1000, 64), zero_out_bias=False)', init_layer, emb, zero_out_bias=False)
    _init_stats('init_layer(Embedding): weight', emb.weight, 0.02)


def _emb_inputs(bsz, seqlen, vocab, gen_types=True):
    x = torch.randint(NUM_SPECIAL, vocab, (bsz, seqlen))
    tt = torch.randint(0, 2, (bsz, seqlen)) if gen_types else torch.zeros(bsz, seqlen, dtype=torch.long)
    return x, tt


@_check('BertEmbeddings')
def test_bert_embeddings(BertEmbeddings):
    name = 'BertEmbeddings'
    emb = _module(BertEmbeddings, name, V, H, L)
    _check_params(name, emb, (V + L + 2 + 2) * H, f'(V + L + 2 + 2)·H при V={V}, L={L}, H={H}')
    tok, pos, typ = _find_embeddings(name, emb, V, L, H)
    getter = _call('get_token_embeddings()', emb.get_token_embeddings)
    if getter is not tok:
        _fail('get_token_embeddings() должен возвращать nn.Embedding токенов, который используется в слое')
    _init_stats('эмбеддинги токенов', tok.weight)
    _init_stats('позиционные эмбеддинги', pos, min_n_for_std=10 ** 9)
    _init_stats('сегментные эмбеддинги', typ.weight, min_n_for_std=10 ** 9)
    _randomize(emb)
    emb.eval()
    w = _embedding_weights(name, emb, V, L, H)
    x, tt = _emb_inputs(3, 10, V)
    out = _call('forward(input_ids, token_type_ids)', emb, x, tt)
    _compare('forward(input_ids, token_type_ids)', out, _ref_embeddings(w, x, tt),
             hint='эмбеддинги токенов + позиций (0..S-1) + сегментов, затем LayerNorm (eps из аргумента)')
    out = _call('forward(input_ids) без token_type_ids', emb, x)
    _compare('forward(input_ids) без token_type_ids', out, _ref_embeddings(w, x, torch.zeros_like(x)),
             hint='token_type_ids=None означает все нули')
    short = _call('forward на последовательности длины 1', emb, x[:, :1], tt[:, :1])
    _compare('forward на последовательности длины 1', short, _ref_embeddings(w, x[:, :1], tt[:, :1]),
             hint='позиции берутся для текущей длины: arange(seqlen)')
    # eps из аргумента
    emb2 = _module(BertEmbeddings, name, V, H, L, eps=0.5)
    _randomize(emb2)
    emb2.eval()
    w2 = _with_eps(_embedding_weights(name, emb2, V, L, H), 0.5)
    _compare('BertEmbeddings(..., eps=0.5)', _call('forward', emb2, x, tt), _ref_embeddings(w2, x, tt),
             hint='передайте eps в nn.LayerNorm(hidden_size, eps=eps)')
    # dropout
    emb3 = _module(BertEmbeddings, name, V, H, L, dropout_prob=0.5)
    emb3.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', emb3, x, tt), 'dropout_prob')
    # dropout — последний: в выходе dropout(LN(...)) примерно половина нулей, в LN(dropout(...)) их нет
    out = _call('forward в режиме train', emb3, x, tt)
    zeros = _zero_fraction(out)
    margin = 7 * math.sqrt(0.25 / out.numel())
    if abs(zeros - 0.5) > margin:
        _fail(f'{name}: при dropout_prob=0.5 в режиме train доля нулей в выходе {zeros:.3f}, '
              f'ожидалось 0.5 ± {margin:.3f}', 'dropout применяется после LayerNorm: dropout(LN(сумма эмбеддингов))')
    emb3.eval()
    a, b = _call('forward в режиме eval', emb3, x, tt), _call('forward в режиме eval', emb3, x, tt)
    if not torch.equal(a, b):
        _fail('в режиме eval результат должен быть детерминированным', 'используйте nn.Dropout')


def _attention_input(bsz=3, seqlen=9):
    x = torch.randn(bsz, seqlen, H)
    lengths = [seqlen, seqlen - 3, 2][:bsz]
    mask2 = torch.zeros(bsz, seqlen, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask2[i, :n] = 1
    return x, mask2


def _match_attention(name, block, x, mask3, att):
    """Находит раскладку q/k/v, при которой эталон совпадает с блоком внимания студента."""
    try:
        out = _call('MultiHeadSelfAttention.forward(embeddings, attention_mask)', block, x, mask3)
    except CheckError as e:
        if 'size of tensor' in str(e) or 'masked_fill' in str(e):  # маска без оси голов
            _fail(str(e), 'маска B x S x S, а оценки B x heads x S x S: добавьте ось голов — mask[:, None]')
        raise
    _tensor(out, 'выход внимания', shape=x.shape)
    best, best_diff = None, float('inf')
    for layout in _QKV_LAYOUTS:
        ref = _ref_attention(_encoder_layer(H, HEADS, I_SIZE, 'relu', att['ln'][2], att, None, layout),
                             x, mask3, HEADS)
        diff = (out.detach() - ref.detach()).abs().max().item()
        if diff < best_diff:
            best, best_diff = layout, diff
        if diff <= ATOL:
            return layout, out
    return None, out


def _attention_hint(block, x, mask3, att, out):
    """Пробует типичные ошибки, чтобы подсказать, что не так."""
    d = H // HEADS
    layer = _encoder_layer(H, HEADS, I_SIZE, 'relu', att['ln'][2], att, None)
    variants = []
    for factor, text in [(math.sqrt(d), 'нет деления на sqrt(d) (размерность одной головы)'),
                         (1 / math.sqrt(d), 'деление на d вместо sqrt(d)'),
                         (math.sqrt(d / H), 'деление на sqrt(hidden_size) вместо sqrt(d) одной головы')]:
        scaled = copy.deepcopy(layer)
        with torch.no_grad():
            scaled.self_attn.in_proj_weight[:H] *= factor
            scaled.self_attn.in_proj_bias[:H] *= factor
        variants.append((_ref_attention(scaled, x, mask3, HEADS), text))
    no_mask = torch.ones_like(mask3)
    variants.append((_ref_attention(layer, x, no_mask, HEADS), 'маска паддинга не применяется'))
    for ref, text in variants:
        if (out.detach() - ref.detach()).abs().max().item() <= 1e-4:
            return text
    return ('проверьте: scores = Q K^T / sqrt(d); маскирование ключей-паддингов (mask = 0) до softmax; '
            'softmax по ключам (последняя ось); dropout на вероятностях; W_o, затем LN(x + ...)')


@_check('MultiHeadSelfAttention')
def test_attention(MultiHeadSelfAttention):
    name = 'MultiHeadSelfAttention'
    att_module = _module(MultiHeadSelfAttention, name, H, HEADS)
    _check_params(name, att_module, 4 * H * H + 6 * H, f'4H² + 6H при H={H}')
    size = _call('size_per_head', getattr, att_module, 'size_per_head')
    if _int(size, 'size_per_head') != H // HEADS:
        _fail(f'size_per_head = {size}, ожидалось hidden_size // num_attention_heads = {H // HEADS}')
    qkv = _one(name, att_module, lambda m: _is_linear(m, H, 3 * H), f'объединённый слой qkv nn.Linear({H}, {3 * H})')
    out_l = _one(name, att_module, lambda m: _is_linear(m, H, H), f'выходной слой nn.Linear({H}, {H})')
    _init_stats('qkv: weight', qkv.weight)
    _check_zero('qkv', qkv.bias)
    _init_stats('выходной слой: weight', out_l.weight)
    _check_zero('выходной слой', out_l.bias)

    _randomize(att_module, scale=2.0)
    att_module.eval()
    att = _attention_weights(name, att_module, H)
    x, mask2 = _attention_input()
    full = torch.ones(x.shape[0], x.shape[1], x.shape[1], dtype=torch.long)
    layout, out = _match_attention(name, att_module, x, full, att)
    if layout is None:
        _fail(f'{name}: без паддинга выход не совпадает с эталоном nn.MultiheadAttention + LayerNorm '
              f'(перепробованы все порядки q/k/v в объединённом слое; допуск {ATOL:g})',
              _attention_hint(att_module, x, full, att, out))
    layer = _encoder_layer(H, HEADS, I_SIZE, 'relu', att['ln'][2], att, None, layout)
    mask3 = _expand(mask2)
    out = _call('forward(embeddings, attention_mask) с паддингом', att_module, x, mask3)
    real = mask2.bool()
    # паддинг-инвариантность: выход на настоящих токенах не зависит от содержимого паддинга
    x2 = x.clone()
    x2[~real] = 100 * torch.randn(int((~real).sum()), H)
    out2 = _call('forward с другим содержимым паддинга', att_module, x2, mask3)
    _tensor(out2, 'выход', shape=x.shape)
    diff = (out.detach() - out2.detach())[real].abs().max().item()
    if diff > ATOL:
        _fail(f'{name}: выход на настоящих токенах меняется при изменении паддинга '
              f'(наибольшее расхождение {diff:.3g}, допуск {ATOL:g})',
              'маска паддинга не применяется: scores на позициях с mask = 0 должны стать очень '
              'маленькими (masked_fill(mask == 0, torch.finfo(scores.dtype).min)) до softmax')
    _compare('forward с паддингом (на настоящих токенах)', out, _ref_attention(layer, x, mask3, HEADS),
             hint=_attention_hint(att_module, x, mask3, att, out), mask=real)
    # eps из аргумента
    m2 = _module(MultiHeadSelfAttention, name, H, HEADS, eps=0.5)
    _randomize(m2, scale=2.0)
    m2.eval()
    att2 = _with_eps(_attention_weights(name, m2, H), 0.5)
    ref2 = _ref_attention(_encoder_layer(H, HEADS, I_SIZE, 'relu', 0.5, att2, None, layout), x, full, HEADS)
    _compare(f'{name}(..., eps=0.5)', _call('forward', m2, x, full), ref2,
             hint='передайте eps в nn.LayerNorm(hidden_size, eps=eps)')
    # dropout вероятностей внимания: после softmax (суммы весов по ключам перестают быть 1)
    probe = _module(MultiHeadSelfAttention, name, H, HEADS, attention_probs_dropout_prob=0.5)
    q = _one(name, probe, lambda m: _is_linear(m, H, 3 * H), 'qkv')
    o = _one(name, probe, lambda m: _is_linear(m, H, H), 'выходной слой')
    with torch.no_grad():
        q.weight.zero_()
        q.bias.fill_(1.0)            # q = k = v = 1: внимание равномерное, контекст = сумма весов
        o.weight.zero_()
        o.weight[0].fill_(1.0 / H)   # первая координата выхода = средняя сумма весов по головам
        o.bias.zero_()
    xp = torch.zeros(2, 8, H)
    xp[..., 1] = 1.0
    ones = torch.ones(2, 8, 8, dtype=torch.long)
    probe.eval()
    ref_out = _call('forward в режиме eval', probe, xp, ones).detach()
    if not torch.equal(ref_out, _call('forward в режиме eval', probe, xp, ones).detach()):
        _fail(f'{name}: при attention_probs_dropout_prob=0.5 в режиме eval результат не детерминирован',
              'dropout вероятностей внимания должен выключаться в eval: используйте nn.Dropout')
    probe.train()
    outs = [_call('forward в режиме train', probe, xp, ones).detach() for _ in range(3)]
    if all(torch.allclose(o_, ref_out, atol=1e-6) for o_ in outs):
        _fail(f'{name}: при attention_probs_dropout_prob=0.5 в режиме train результат не отличается '
              'от eval при равномерном внимании',
              'dropout должен применяться к вероятностям внимания ПОСЛЕ softmax (как в BERT), а не к '
              'scores до softmax; проверьте, что он вообще применяется')
    probe2 = _module(MultiHeadSelfAttention, name, H, HEADS, dropout_prob=0.5)
    probe2.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', probe2, x, full), 'dropout_prob')
    _check_dropout_before_ln(name, _call('forward в режиме train', probe2, x, full))
    probe2.eval()
    if not torch.equal(_call('forward', probe2, x, full), _call('forward', probe2, x, full)):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


def _match_ff(name, block, x, ffw, act):
    out = _call('FeedForward.forward(embeddings)', block, x)
    _tensor(out, 'выход FeedForward', shape=x.shape)
    variants = [act] + (['gelu_tanh'] if act == 'gelu' else [])
    for variant in variants:
        ref = _ref_ff(_encoder_layer(H, HEADS, I_SIZE, variant, ffw['ln'][2], None, ffw), x)
        if (out.detach() - ref.detach()).abs().max().item() <= ATOL:
            return variant, out
    return None, out


@_check('FeedForward')
def test_feedforward(FeedForward):
    name = 'FeedForward'
    x = torch.randn(3, 7, H)
    for act in ('relu', 'gelu'):
        ff = _module(FeedForward, name, H, I_SIZE, act_func=act)
        _check_params(name, ff, 8 * H * H + 7 * H, f'8H² + 7H при H={H}, I=4H')
        up = _one(name, ff, lambda m: _is_linear(m, H, I_SIZE), f'nn.Linear({H}, {I_SIZE})')
        down = _one(name, ff, lambda m: _is_linear(m, I_SIZE, H), f'nn.Linear({I_SIZE}, {H})')
        _init_stats('первый линейный слой: weight', up.weight)
        _init_stats('второй линейный слой: weight', down.weight)
        _check_zero('первый линейный слой', up.bias)
        _check_zero('второй линейный слой', down.bias)
        _randomize(ff)
        ff.eval()
        ffw = _ff_weights(name, ff, H, I_SIZE)
        variant, out = _match_ff(name, ff, x, ffw, act)
        if variant is None:
            ref = _ref_ff(_encoder_layer(H, HEADS, I_SIZE, act, ffw['ln'][2], None, ffw), x)
            hint = 'LN(x + dropout(W2 f(W1 x + b1) + b2)); не забудьте остаточную связь и LayerNorm'
            other = 'gelu' if act == 'relu' else 'relu'
            ref_other = _ref_ff(_encoder_layer(H, HEADS, I_SIZE, other, ffw['ln'][2], None, ffw), x)
            if (out.detach() - ref_other).abs().max().item() <= ATOL:
                hint = f'при act_func={act!r} используется {other}: выбирайте активацию по act_func'
            _compare(f'FeedForward(act_func={act!r})', out, ref, hint=hint)
    ff = _module(FeedForward, name, H, I_SIZE)
    _randomize(ff)
    ff.eval()
    ffw = _ff_weights(name, ff, H, I_SIZE)
    if ffw['ln'][2] != 1e-3:
        _fail(f'{name}: eps LayerNorm по умолчанию {ffw["ln"][2]}, ожидалось 1e-3')
    _compare('FeedForward(hidden, intermediate) с аргументами по умолчанию (relu)', _call('forward', ff, x),
             _ref_ff(_encoder_layer(H, HEADS, I_SIZE, 'relu', 1e-3, None, ffw), x),
             hint='по умолчанию act_func="relu"')
    ff = _module(FeedForward, name, H, I_SIZE, eps=0.5)
    _randomize(ff)
    ff.eval()
    ffw = _with_eps(_ff_weights(name, ff, H, I_SIZE), 0.5)
    _compare('FeedForward(..., eps=0.5)', _call('forward', ff, x),
             _ref_ff(_encoder_layer(H, HEADS, I_SIZE, 'relu', 0.5, None, ffw), x),
             hint='передайте eps в nn.LayerNorm(hidden_size, eps=eps)')
    ff = _module(FeedForward, name, H, I_SIZE, dropout_prob=0.5)
    ff.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', ff, x), 'dropout_prob')
    _check_dropout_before_ln(name, _call('forward в режиме train', ff, x))
    ff.eval()
    if not torch.equal(_call('forward', ff, x), _call('forward', ff, x)):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


def _layers_of(name, root):
    """Блоки внимания и полносвязные блоки по порядку (поиск по роли)."""
    def att_block(m):
        return (sum(1 for x in m.modules() if _is_linear(x, H, 3 * H)) == 1
                and sum(1 for x in m.modules() if _is_linear(x, H, H)) == 1
                and sum(1 for x in m.modules() if _is_ln(x, H)) == 1)

    def ff_block(m):
        return (sum(1 for x in m.modules() if _is_linear(x, H, I_SIZE)) == 1
                and sum(1 for x in m.modules() if _is_linear(x, I_SIZE, H)) == 1
                and sum(1 for x in m.modules() if _is_ln(x, H)) == 1)
    atts, ffs = [], []
    for path, _ in _find(root, lambda m: _is_linear(m, H, 3 * H)):
        block = _block(root, path, att_block)
        if block is None:
            _fail(f'{name}: не удалось выделить блок внимания (Linear qkv + Linear H→H + LayerNorm) '
                  f'вокруг {path}. Найдены слои: {_describe(root)}')
        atts.append(block)
    for path, _ in _find(root, lambda m: _is_linear(m, H, I_SIZE)):
        block = _block(root, path, ff_block)
        if block is None:
            _fail(f'{name}: не удалось выделить полносвязный блок (Linear H→I + Linear I→H + LayerNorm) '
                  f'вокруг {path}. Найдены слои: {_describe(root)}')
        ffs.append(block)
    return atts, ffs


def _backbone_reference(name, root, atts, ffs, act):
    """Эталонные nn.TransformerEncoderLayer для каждого слоя с раскладкой qkv и активацией студента."""
    layers = []
    for i, (att_block, ff_block) in enumerate(zip(atts, ffs)):
        att = _attention_weights(name, att_block, H)
        ffw = _ff_weights(name, ff_block, H, I_SIZE)
        x = torch.randn(2, 6, H)
        mask3 = torch.ones(2, 6, 6, dtype=torch.long)
        try:
            with torch.no_grad():
                layout, _ = _match_attention(name, att_block, x, mask3, att)
        except CheckError:
            layout = None
        try:
            with torch.no_grad():
                variant, _ = _match_ff(name, ff_block, x, ffw, act)
        except CheckError:
            variant = None
        layers.append(_encoder_layer(H, HEADS, I_SIZE, variant or act, ffw['ln'][2], att, ffw,
                                     layout or ('chunk', (0, 1, 2))))
    return layers


def _layer_inputs():
    x, mask2 = _attention_input()
    return x, mask2, _expand(mask2)


@_check('BertLayer')
def test_bert_layer(BertLayer):
    name = 'BertLayer'
    layer = _module(BertLayer, name, H, I_SIZE, HEADS, act_func='gelu')
    _check_params(name, layer, 12 * H * H + 13 * H, f'12H² + 13H при H={H}, I=4H')
    _randomize(layer, scale=2.0)
    layer.eval()
    atts, ffs = _layers_of(name, layer)
    if len(atts) != 1 or len(ffs) != 1:
        _fail(f'{name}: ожидался один блок внимания и один полносвязный, найдено {len(atts)} и {len(ffs)}')
    ref_layer = _backbone_reference(name, layer, atts, ffs, 'gelu')[0]
    x, mask2, mask3 = _layer_inputs()
    real = mask2.bool()
    out = _call('forward(x, attention_mask)', layer, x, mask3)
    _compare('forward(x, attention_mask) (на настоящих токенах)', out, _ref_layer(ref_layer, x, mask3, HEADS),
             hint='сначала внимание, затем полносвязный блок; маска передаётся во внимание; '
                  'act_func передаётся в FeedForward', mask=real)
    layer2 = _module(BertLayer, name, H, I_SIZE, HEADS, dropout_prob=0.5)
    layer2.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', layer2, x, mask3), 'dropout_prob')
    _check_block_dropout(name, lambda **kw: _module(BertLayer, name, H, I_SIZE, HEADS, **kw), 'dropout_prob',
                         'передайте {arg} в {block}')
    _check_eps_passed(name, _module(BertLayer, name, H, I_SIZE, HEADS, eps=0.5))
    layer2.eval()
    if not torch.equal(_call('forward', layer2, x, mask3), _call('forward', layer2, x, mask3)):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


def _emb_ln(name, root, atts, ffs, extra_blocks=()):
    taken = {id(m) for block in list(atts) + list(ffs) + list(extra_blocks)
             for m in block.modules() if isinstance(m, nn.LayerNorm)}
    rest = [m for _, m in _find(root, lambda m: _is_ln(m, H)) if id(m) not in taken]
    if len(rest) != 1:
        _fail(f'{name}: не удалось найти LayerNorm эмбеддингов (вне слоёв найдено {len(rest)}). '
              f'Найдены слои: {_describe(root)}')
    return rest[0]


def _backbone_forward_ref(emb_w, layers, x, mask2, tt):
    hidden = _ref_embeddings(emb_w, x, tt)
    mask3 = _expand(mask2)
    for layer in layers:
        hidden = _ref_layer(layer, hidden, mask3, HEADS)
    return hidden


def _map_backbone(name, root, act, extra_blocks=()):
    atts, ffs = _layers_of(name, root)
    if len(atts) != N_LAYERS or len(ffs) != N_LAYERS:
        _fail(f'{name}: при num_hidden_layers={N_LAYERS} найдено {len(atts)} блоков внимания и {len(ffs)} '
              f'полносвязных блоков', 'создавайте слои в nn.ModuleList, каждый — отдельный объект')
    ln = _emb_ln(name, root, atts, ffs, extra_blocks)
    emb_w = _embedding_weights(name, root, V, L, H, ln=ln)
    layers = _backbone_reference(name, root, atts, ffs, act)
    return emb_w, layers


def _model_inputs(bsz=3, seqlen=10):
    x = torch.randint(NUM_SPECIAL, V, (bsz, seqlen))
    mask2 = torch.ones(bsz, seqlen, dtype=torch.long)
    for i, n in enumerate([seqlen, seqlen - 4, 3][:bsz]):
        mask2[i, n:] = 0
    x = x.masked_fill(mask2 == 0, 0)
    tt = torch.zeros(bsz, seqlen, dtype=torch.long)
    tt[:, seqlen // 2:] = 1
    tt = tt * mask2
    return x, mask2, tt


def _bert_params(n_layers=N_LAYERS):
    return (V + L + 2 + 2) * H + n_layers * (12 * H * H + 13 * H)


@_check('Bert')
def test_bert(Bert):
    name = 'Bert'
    kwargs = dict(vocab_size=V, max_seqlen=L, hidden_size=H, num_hidden_layers=N_LAYERS,
                  intermediate_size=I_SIZE, num_attention_heads=HEADS, act_func='gelu')
    model = _module(Bert, name, **kwargs)
    _check_params(name, model, _bert_params(), f'(V + L + 4)·H + N·(12H² + 13H) при N={N_LAYERS} (без pooler)')
    expand = _call('Bert.expand_mask', getattr, Bert, 'expand_mask')
    m2 = torch.tensor([[1, 1, 0], [1, 0, 0]])
    m3 = _call('Bert.expand_mask(mask)', expand, m2)
    _tensor(m3, 'Bert.expand_mask(mask)', shape=(2, 3, 3))
    if not torch.equal(m3.long(), _expand(m2)):
        _fail('Bert.expand_mask: ожидалось mask[b, i, j] = attention_mask[b, j]')
    tok = _call('get_token_embeddings()', model.get_token_embeddings)
    if not isinstance(tok, nn.Embedding) or not any(tok is m for m in model.modules()):
        _fail('get_token_embeddings() должен возвращать nn.Embedding токенов из модели')
    _randomize(model, scale=1.5)
    model.eval()
    emb_w, layers = _map_backbone(name, model, 'gelu')
    x, mask2, tt = _model_inputs()
    real = mask2.bool()
    out = _call('forward(x, attention_mask, token_type_ids)', model, x, mask2, tt)
    hint = ('эмбеддинги, затем слои по очереди; маску B x S превратите в B x S x S через expand_mask; '
            'act_func и eps передаются в слои')
    _compare('forward(x, attention_mask, token_type_ids) (на настоящих токенах)', out,
             _backbone_forward_ref(emb_w, layers, x, mask2, tt), atol=ATOL_DEEP, hint=hint, mask=real)
    # паддинг-инвариантность: та же строка без паддинга
    short = _call('forward на строке без паддинга', model, x[1:2, :6], mask2[1:2, :6], tt[1:2, :6])
    _tensor(short, 'выход', shape=(1, 6, H))
    diff = (short[0] - out[1, :6]).abs().max().item()
    if diff > ATOL_DEEP:
        _fail(f'{name}: выход на настоящих токенах зависит от добавленного паддинга '
              f'(наибольшее расхождение {diff:.3g}, допуск {ATOL_DEEP:g})',
              'маска паддинга должна доходить до каждого слоя внимания')
    out = _call('forward(x) без маски и token_type_ids', model, x)
    _compare('forward(x) без маски и token_type_ids', out,
             _backbone_forward_ref(emb_w, layers, x, torch.ones_like(x), torch.zeros_like(x)), atol=ATOL_DEEP,
             hint='attention_mask=None — смотреть можно на все токены; token_type_ids=None — нули')
    _check_block_dropout(name, lambda **kw: _module(Bert, name, **dict(kwargs, **kw)), 'dropout_prob',
                         'передайте {arg} в каждый BertLayer')
    _check_eps_passed(name, _module(Bert, name, **dict(kwargs, eps=0.5)))
    model = _module(Bert, name, **dict(kwargs, input_dropout_prob=0.5))
    model.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', model, x, mask2, tt), 'input_dropout_prob')
    model.eval()
    if not torch.equal(_call('forward', model, x, mask2, tt), _call('forward', model, x, mask2, tt)):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


def _mlm_parts(name, head, hidden, vocab):
    dense = _one(name, head, lambda m: _is_linear(m, hidden, hidden), f'nn.Linear({hidden}, {hidden})')
    ln = _one(name, head, lambda m: _is_ln(m, hidden), f'LayerNorm({hidden})')
    biases = [p for p in head.parameters() if tuple(p.shape) == (vocab,)]
    if len(biases) != 1:
        _fail(f'{name}: ожидался один собственный bias декодера формы ({vocab},), найдено {len(biases)}')
    return dense, ln, biases[0]


def _gelu_variant(act, got, reference, atol=ATOL):
    """'gelu_tanh', если при act='gelu' выход совпадает с GELU через tanh (nn.GELU(approximate='tanh')),
    а с точной GELU нет: приближение принимается везде, как в проверке FeedForward."""
    if act != 'gelu' or not isinstance(got, torch.Tensor):
        return act
    got = got.detach().float()

    def close(variant):
        ref = reference(variant).detach()
        return got.shape == ref.shape and (got - ref).abs().max().item() <= atol
    return 'gelu_tanh' if not close('gelu') and close('gelu_tanh') else act


def _ref_mlm_logits(dense, ln, weight, bias, hidden_states, act):
    g, b, eps = _ln_params(ln)
    transformed = F.layer_norm(_ACTIVATIONS[act](F.linear(hidden_states, dense.weight, dense.bias)),
                               (hidden_states.shape[-1],), g, b, eps)
    return F.linear(transformed, weight, bias)


def _mlm_labels(bsz, seqlen, vocab, ignore_index, share=0.3):
    labels = torch.randint(NUM_SPECIAL, vocab, (bsz, seqlen))
    chosen = torch.rand(bsz, seqlen) < share
    chosen[0, 0] = True
    return labels.masked_fill(~chosen, ignore_index)


@_check('MlmHead')
def test_mlm_head(MlmHead, BertEmbeddings):
    name = 'MlmHead'
    _require_class(MlmHead, 'MlmHead')
    embeddings = _module(BertEmbeddings, 'BertEmbeddings', V, H, L)
    token_emb = _call('BertEmbeddings.get_token_embeddings()', embeddings.get_token_embeddings)
    if not isinstance(token_emb, nn.Embedding):
        _fail('BertEmbeddings.get_token_embeddings() должен возвращать nn.Embedding')
    _check_eps_passed(name, _module(MlmHead, name, H, V, 'gelu', eps=0.5, input_embeddings=token_emb))
    for act in ('relu', 'gelu'):
        head = _module(MlmHead, name, H, V, act, input_embeddings=token_emb)
        _check_params(name, head, H * H + 2 * H + H * V + H + V,
                      f'H² + 2H + H·V + H + V при H={H}, V={V} (связанная матрица эмбеддингов считается в голове)')
        dense, ln, bias = _mlm_parts(name, head, H, V)
        tied = [p for p in head.parameters() if tuple(p.shape) == (V, H)]
        if len(tied) != 1 or tied[0] is not token_emb.weight:
            _fail(f'{name}: матрица декодера должна быть тем же тензором, что и веса эмбеддингов токенов',
                  'self._decoder.weight = input_embeddings.weight (связывание, а не копия)')
        _init_stats('dense: weight', dense.weight, min_n_for_std=10 ** 9)
        _check_zero('dense', dense.bias)
        _check_zero('bias декодера', bias)
        _randomize(head)
        with torch.no_grad():
            token_emb.weight.copy_(torch.randn(V, H) / math.sqrt(H))
        head.eval()
        hidden = torch.randn(2, 7, H)
        logits = _call('forward(hidden_states, labels=None)', head, hidden, None)
        ref_act = _gelu_variant(act, logits, lambda a: _ref_mlm_logits(dense, ln, token_emb.weight, bias, hidden, a))
        ref = _ref_mlm_logits(dense, ln, token_emb.weight, bias, hidden, ref_act)
        _compare(f'{name}(act={act!r}): логиты при labels=None', logits, ref,
                 hint='W2 LN(f(W1 h + b1)) + b2, W2 — матрица эмбеддингов токенов; при labels=None '
                      'верните логиты B x S x V')
        for ignore_index in (-100, -1):
            head_i = head if ignore_index == -100 else _module(MlmHead, name, H, V, act, ignore_index=ignore_index,
                                                                input_embeddings=token_emb)
            if ignore_index != -100:
                _randomize(head_i)
                head_i.eval()
            dense_i, ln_i, bias_i = _mlm_parts(name, head_i, H, V)
            labels = _mlm_labels(2, 7, V, ignore_index)
            loss = _call(f'forward(hidden_states, labels) с ignore_index={ignore_index}', head_i, hidden, labels)
            _tensor(loss, f'{name}: функция потерь', floating=True)
            if loss.numel() != 1:
                _fail(f'{name}: функция потерь должна быть числом (средним по целям), форма {tuple(loss.shape)}')
            ref_logits = _ref_mlm_logits(dense_i, ln_i, token_emb.weight, bias_i, hidden, ref_act)
            expected = F.cross_entropy(ref_logits.reshape(-1, V), labels.reshape(-1), ignore_index=ignore_index)
            _compare(f'{name}: функция потерь (ignore_index={ignore_index})', loss.reshape(()), expected,
                     atol=ATOL_DEEP, hint='nn.CrossEntropyLoss(ignore_index=ignore_index): среднее по целям, '
                                          'позиции с ignore_index не учитываются')
        # связывание настоящее: изменение эмбеддингов видно в голове, градиент доходит до эмбеддингов
        with torch.no_grad():
            token_emb.weight.add_(0.5)
        logits = _call('forward после изменения эмбеддингов', head, hidden, None)
        _compare(f'{name}: логиты после изменения матрицы эмбеддингов', logits,
                 _ref_mlm_logits(dense, ln, token_emb.weight, bias, hidden, ref_act),
                 hint='декодер должен использовать тот же тензор, что и эмбеддинги (не копию)')
        token_emb.weight.grad = None
        loss = _call('forward(hidden_states, labels)', head, hidden, _mlm_labels(2, 7, V, -100))
        _call('loss.backward()', loss.backward)
        if token_emb.weight.grad is None or token_emb.weight.grad.abs().sum().item() == 0:
            _fail(f'{name}: градиент функции потерь не доходит до матрицы эмбеддингов токенов')
    head = _module(MlmHead, name, H, V, 'relu')
    _check_params(f'{name}(input_embeddings=None)', head, H * H + 2 * H + H * V + H + V,
                  'H² + 2H + H·V + H + V (собственная матрица декодера)')


def _cls_parts(name, head, hidden, classes):
    dense = _one(name, head, lambda m: _is_linear(m, hidden, hidden), f'nn.Linear({hidden}, {hidden})')
    out = _one(name, head, lambda m: _is_linear(m, hidden, classes), f'nn.Linear({hidden}, {classes})')
    return dense, out


def _ref_cls_logits(dense, out, hidden_states):
    """BERT pooler: tanh(W h_[CLS] + b), затем линейный слой."""
    pooled = torch.tanh(F.linear(hidden_states[:, 0], dense.weight, dense.bias))
    return F.linear(pooled, out.weight, out.bias)


@_check('ClassifierHead')
def test_classifier_head(ClassifierHead):
    name = 'ClassifierHead'
    head = _module(ClassifierHead, name, H)
    _check_params(name, head, H * H + H + H + 1, f'H² + H + H + 1 при H={H}, num_classes=1')
    dense, out = _cls_parts(name, head, H, 1)
    _init_stats('dense: weight', dense.weight, min_n_for_std=10 ** 9)
    _check_zero('dense', dense.bias)
    _randomize(head)
    head.eval()
    hidden = torch.randn(4, 6, H)
    logits = _call('forward(hidden_states)', head, hidden)
    ref = _ref_cls_logits(dense, out, hidden)
    _compare(f'{name}: логиты (permuted=None)', logits, ref,
             hint='берите вектор [CLS] (позиция 0), dense -> tanh -> dropout -> Linear; без permuted верните логиты B x 1')
    hidden2 = hidden.clone()
    hidden2[:, 1:] = torch.randn(4, 5, H)
    logits2 = _call('forward(hidden_states)', head, hidden2)
    if (logits2 - logits).abs().max().item() > ATOL:
        _fail(f'{name}: логиты зависят не только от вектора [CLS] (позиция 0)', 'hidden_states[:, 0]')
    for dtype in (torch.float32, torch.long):
        permuted = torch.tensor([0, 1, 1, 0], dtype=dtype)
        loss = _call(f'forward(hidden_states, permuted) с permuted типа {dtype}', head, hidden, permuted)
        _tensor(loss, f'{name}: функция потерь', floating=True)
        if loss.numel() != 1:
            _fail(f'{name}: функция потерь должна быть числом, получена форма {tuple(loss.shape)}')
        expected = F.binary_cross_entropy_with_logits(ref[:, 0], permuted.float())
        _compare(f'{name}: функция потерь (permuted {dtype})', loss.reshape(()), expected,
                 hint='nn.BCEWithLogitsLoss()(logits[:, 0], permuted.float())')
    head5 = _module(ClassifierHead, name, H, num_classes=5)
    _check_params(f'{name}(num_classes=5)', head5, H * H + H + 5 * H + 5, 'H² + H + 5H + 5')
    _randomize(head5)
    head5.eval()
    dense5, out5 = _cls_parts(name, head5, H, 5)
    _compare(f'{name}(num_classes=5): логиты', _call('forward(hidden_states)', head5, hidden),
             _ref_cls_logits(dense5, out5, hidden), hint='последний слой: nn.Linear(hidden_size, num_classes)')
    head_d = _module(ClassifierHead, name, H, hidden_dropout_prob=0.5)
    head_d.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', head_d, hidden), 'hidden_dropout_prob')
    head_d.eval()
    if not torch.equal(_call('forward', head_d, hidden), _call('forward', head_d, hidden)):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


def _model_kwargs(**extra):
    kwargs = dict(hidden_size=H, vocab_size=V, max_seqlen=L, num_hidden_layers=N_LAYERS,
                  intermediate_size=I_SIZE, num_attention_heads=HEADS)
    kwargs.update(extra)
    return kwargs


def _head_block(name, root, start_pred, block_pred, role):
    found = _find(root, start_pred)
    if len(found) != 1:
        _fail(f'{name}: не удалось найти {role}. Найдены слои: {_describe(root)}')
    block = _block(root, found[0][0], block_pred)
    if block is None or block is root and _contains(root, lambda m: _is_linear(m, H, 3 * H)):
        _fail(f'{name}: не удалось выделить {role} отдельно от Bert. Найдены слои: {_describe(root)}')
    return block


def _map_pretrain_model(name, model, act):
    no_backbone = lambda m: not _contains(m, lambda x: _is_linear(x, H, 3 * H))
    cls_block = _head_block(name, model, lambda m: _is_linear(m, H, 1),
                            lambda m: no_backbone(m) and _contains(m, lambda x: _is_linear(x, H, H)),
                            'голову SOP (nn.Linear(H, 1))')
    bias_owner = [path for path, m in model.named_modules()
                  if any(tuple(p.shape) == (V,) for p in m.parameters(recurse=False))]
    if len(bias_owner) != 1:
        _fail(f'{name}: не удалось найти bias декодера MLM-головы формы ({V},)')
    mlm_block = _block(model, bias_owner[0], lambda m: no_backbone(m) and _contains(m, lambda x: _is_ln(x, H))
                       and _contains(m, lambda x: _is_linear(x, H, H)))
    if mlm_block is None:
        _fail(f'{name}: не удалось выделить MLM-голову. Найдены слои: {_describe(model)}')
    dense, ln, bias = _mlm_parts(name, mlm_block, H, V)
    cls_dense, cls_out = _cls_parts(name, cls_block, H, 1)
    emb_w, layers = _map_backbone(name, model, act, extra_blocks=[mlm_block])
    return emb_w, layers, (dense, ln, bias), (cls_dense, cls_out)


@_check('BertModel')
def test_bert_model(BertModel):
    name = 'BertModel'
    model = _module(BertModel, name, **_model_kwargs(act_func='gelu'))
    expected = _bert_params() + (H * H + 3 * H + V) + (H * H + 2 * H + 1)
    _check_params(name, model, expected, 'Bert + MlmHead (без второй копии матрицы эмбеддингов) + ClassifierHead')
    _check_eps_passed(name, _module(BertModel, name, **_model_kwargs(act_func='gelu', eps=0.5)))
    _check_block_dropout(name, lambda **kw: _module(BertModel, name, **_model_kwargs(**kw)), 'hidden_dropout_prob',
                         'передайте {arg} в Bert (а оттуда в каждый BertLayer)')
    tok, _, _ = _find_embeddings(name, model, V, L, H)
    _randomize(model, scale=1.5)
    model.eval()
    emb_w, layers, (dense, ln, bias), (cls_dense, cls_out) = _map_pretrain_model(name, model, 'gelu')
    x, mask2, tt = _model_inputs()
    labels = _mlm_labels(*x.shape, V, -100).masked_fill(mask2 == 0, -100)
    permuted = torch.tensor([1., 0., 1.])
    result = _call('forward(x, attention_mask, labels, permuted, token_type_ids)', model, x, mask2, labels,
                   permuted, tt)
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
        _fail(f'{name}.forward должен возвращать (loss, {{"MLM": ..., "SOP": ...}}), получено {type(result).__name__}')
    loss, parts = result
    for key in ('MLM', 'SOP'):
        if key not in parts:
            _fail(f'{name}: в словаре лоссов нет ключа {key!r}, есть {list(parts)}')
        _tensor(parts[key], f'{name}: лосс {key}', floating=True)
    _tensor(loss, f'{name}: loss', floating=True)
    hidden = _backbone_forward_ref(emb_w, layers, x, mask2, tt)

    def mlm_loss(act):
        return F.cross_entropy(_ref_mlm_logits(dense, ln, tok.weight, bias, hidden, act).reshape(-1, V),
                               labels.reshape(-1), ignore_index=-100)
    mlm = mlm_loss(_gelu_variant('gelu', parts['MLM'].reshape(()), mlm_loss, atol=ATOL_DEEP))
    sop = F.binary_cross_entropy_with_logits(_ref_cls_logits(cls_dense, cls_out, hidden)[:, 0], permuted)
    _compare(f'{name}: лосс MLM', parts['MLM'].reshape(()), mlm, atol=ATOL_DEEP,
             hint='MLM-голова получает выход Bert и labels; декодер связан с эмбеддингами токенов')
    _compare(f'{name}: лосс SOP', parts['SOP'].reshape(()), sop, atol=ATOL_DEEP)
    _compare(f'{name}: loss = 0.5·MLM + 0.5·SOP', loss.reshape(()), 0.5 * mlm + 0.5 * sop, atol=ATOL_DEEP)
    tied = [p for p in model.parameters() if tuple(p.shape) == (V, H)]
    if len(tied) != 1:
        _fail(f'{name}: матриц формы ({V}, {H}) в модели {len(tied)}, ожидалась одна (связанные веса)')
    model.zero_grad()
    _call('loss.backward()', loss.backward)
    if tok.weight.grad is None or not torch.isfinite(tok.weight.grad).all():
        _fail(f'{name}: нет градиента у эмбеддингов токенов после loss.backward()')
    model_d = _module(BertModel, name, **_model_kwargs(hidden_dropout_prob=0.5))
    model_d.train()
    _dropout_behaviour(name, lambda: _call('forward в режиме train', model_d, x, mask2, labels, permuted, tt)[0],
                       'hidden_dropout_prob')
    model_d.eval()
    a = _call('forward', model_d, x, mask2, labels, permuted, tt)[0]
    b = _call('forward', model_d, x, mask2, labels, permuted, tt)[0]
    if not torch.equal(a, b):
        _fail(f'{name}: в режиме eval результат должен быть детерминированным')


# ----------------------------------------------------------------------------------------------
# Часть 3. Оптимизация
# ----------------------------------------------------------------------------------------------

@_check('get_optimizer')
def test_optimizer(get_optimizer, model):
    _require_function(get_optimizer, 'get_optimizer')
    if not isinstance(model, nn.Module):
        _fail(f'вторым аргументом передайте модель (nn.Module), получено {type(model).__name__}')
    wd = 0.0123
    opt = _call(f'get_optimizer(model, weight_decay={wd})', get_optimizer, model, weight_decay=wd)
    if not isinstance(opt, torch.optim.AdamW):
        _fail(f'ожидался torch.optim.AdamW, получен {type(opt).__name__}',
              'transformers.AdamW больше нет: используйте torch.optim.AdamW')
    groups = opt.param_groups
    if len(groups) != 2:
        _fail(f'ожидалось 2 группы параметров [с регуляризацией, без], получено {len(groups)}')
    if groups[0]['weight_decay'] != wd or groups[1]['weight_decay'] != 0:
        _fail(f'weight_decay групп: {groups[0]["weight_decay"]}, {groups[1]["weight_decay"]}; '
              f'ожидалось {wd} (переданный weight_decay) и 0',
              'первая группа — с регуляризацией, вторая — без')
    names = {}
    ln_params = set()
    for module_name, m in model.named_modules():
        if isinstance(m, nn.LayerNorm):
            ln_params.update(id(p) for p in m.parameters(recurse=False))
    for pname, p in model.named_parameters():
        names[id(p)] = pname
    where = {}
    for gi, group in enumerate(groups):
        for p in group['params']:
            if id(p) in where:
                _fail(f'параметр {names.get(id(p), "?")} встречается в группах больше одного раза')
            where[id(p)] = gi
    missing = [n for pid, n in names.items() if pid not in where]
    if missing:
        _fail(f'не все параметры модели попали в оптимизатор, например: {missing[:5]}')
    extra = [pid for pid in where if pid not in names]
    if extra:
        _fail(f'в оптимизаторе {len(extra)} тензоров, которых нет среди параметров модели')
    for pid, pname in names.items():
        no_decay = pid in ln_params or pname.endswith('bias') or _param_ndim(model, pid) == 1
        want = 1 if no_decay else 0
        if where[pid] != want:
            role = ('параметр LayerNorm' if pid in ln_params else 'bias' if no_decay else 'обычный вес')
            _fail(f'{pname} ({role}) попал в группу {"без" if where[pid] else "с"} регуляризацией',
                  'без weight decay — все bias и все параметры nn.LayerNorm (по типу модуля или p.ndim == 1); '
                  'остальные веса — с weight decay')


def _param_ndim(model, pid):
    for p in model.parameters():
        if id(p) == pid:
            return p.dim()
    return None


def _expected_lr(k, init, peak, final, warmup, total):
    """Кусочно-линейное расписание: init -> peak за warmup шагов, затем peak -> final к шагу total."""
    if k <= warmup:
        return init + (peak - init) * k / warmup
    if k <= total:
        return peak + (final - peak) * (k - warmup) / (total - warmup)
    return final


@_check('Scheduler')
def test_scheduler(Scheduler, get_optimizer=None, model=None):
    name = 'Scheduler'
    _require_class(Scheduler, name)
    cases = [(0.0, 1e-3, 1e-5, 4, 10), (1e-5, 2e-3, 0.0, 3, 7), (5e-4, 5e-3, 1e-4, 1, 5)]
    student_opt = None
    if get_optimizer is not None and isinstance(model, nn.Module):
        # оптимизатор из вашего get_optimizer: расписание должно менять lr во всех его группах
        student_opt = _call('get_optimizer(model)', get_optimizer, model)
        if not isinstance(student_opt, torch.optim.Optimizer):
            _fail(f'get_optimizer(model) вернул {type(student_opt).__name__}, а не оптимизатор torch')
        cases.append((2e-4, 1e-3, 1e-6, 2, 6, student_opt))
    for init, peak, final, warmup, total, *given in cases:
        params = [nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(3))]
        opt = given[0] if given else torch.optim.AdamW([{'params': [params[0]], 'weight_decay': 0.01},
                                                        {'params': [params[1]], 'weight_decay': 0.0}], lr=0.123)
        args = f'init_lr={init}, peak_lr={peak}, final_lr={final}, num_warmup_steps={warmup}, ' \
               f'num_training_steps={total}'
        sched = _call(f'{name}(optimizer, {args})', Scheduler, opt, init, peak, final, warmup, total)
        for k in range(total + 4):
            want = _expected_lr(k, init, peak, final, warmup, total)
            for gi, group in enumerate(opt.param_groups):
                got = group['lr']
                if isinstance(got, torch.Tensor) and got.numel() == 1:
                    got = got.item()
                if not isinstance(got, numbers.Real) or not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
                    when = 'сразу после создания' if k == 0 else f'после {k} вызовов step()'
                    if k == 0:
                        hint = 'в __init__ выставьте lr = init_lr всем группам оптимизатора'
                    elif isinstance(got, numbers.Real) and math.isclose(
                            got, _expected_lr(k + 1, init, peak, final, warmup, total), rel_tol=1e-6, abs_tol=1e-12):
                        hint = 'расписание опережает на один шаг: сначала увеличьте счётчик, затем считайте lr по нему'
                    elif isinstance(got, numbers.Real) and math.isclose(
                            got, _expected_lr(k - 1, init, peak, final, warmup, total), rel_tol=1e-6, abs_tol=1e-12):
                        hint = 'расписание отстаёт на один шаг: после k вызовов step() lr должен быть lr(k)'
                    elif k > total:
                        hint = 'после num_training_steps lr остаётся равным final_lr'
                    elif k > warmup:
                        hint = 'после разогрева: lr = peak + (final - peak)·(k - warmup)/(total - warmup)'
                    else:
                        hint = 'разогрев: lr = init + (peak - init)·k/warmup'
                    _fail(f'{name}({args}): {when} у группы {gi} lr = {got}, ожидалось {want:.6g}', hint)
            if k < total + 3:
                _call('scheduler.step()', sched.step)
        last = _call('get_last_lr()', sched.get_last_lr)
        if not isinstance(last, (list, tuple)) or len(last) != len(opt.param_groups):
            _fail(f'{name}.get_last_lr() должен возвращать список lr по группам (их {len(opt.param_groups)}), '
                  f'получено {last!r:.80}')


# ----------------------------------------------------------------------------------------------
# Trainer: маленькая модель-шпион вместо BertModel
# ----------------------------------------------------------------------------------------------

class _Spy:
    """Объект проверки, который меняет код студента (вызовы, градиенты): при автопроверке его
    состояние пишется в запись после каждого вызова кода студента."""
    _state = ()  # имена атрибутов-списков

    def _export_state(self):
        return {k: getattr(self, k) for k in self._state}

    def _import_state(self, state):
        for k in self._state:
            if not isinstance(state.get(k), list):
                raise _ReplayError('состояние объекта проверки в записи испорчено')
            getattr(self, k)[:] = state[k]  # на месте: список событий общий у оптимизатора и расписания

    def _signature(self):
        return [(id(getattr(self, k)), len(getattr(self, k))) for k in self._state]


class _SpyPretrainModel(_Spy, nn.Module):
    """Модель с сигнатурой BertModel.forward: записывает, что ей передали."""
    _state = ('calls',)

    def __init__(self, vocab=13, hidden=6):
        super().__init__()
        self.emb = nn.Embedding(vocab, hidden)
        self.out = nn.Linear(hidden, vocab)
        self.sop = nn.Linear(hidden, 1)
        self.calls = []

    def forward(self, x, attention_mask, labels, permuted, token_type_ids=None):
        self.calls.append(dict(x=x.detach().clone(), mask=attention_mask.detach().clone(),
                               labels=labels.detach().clone(), permuted=permuted.detach().clone(),
                               tt=None if token_type_ids is None else token_type_ids.detach().clone(),
                               training=self.training, grad=torch.is_grad_enabled()))
        return self.loss(x, attention_mask, labels, permuted, token_type_ids)

    def loss(self, x, attention_mask, labels, permuted, token_type_ids=None):
        hidden = self.emb(x) * attention_mask[..., None].float()
        if token_type_ids is not None:
            hidden = hidden + 0.1 * token_type_ids[..., None].float()
        mlm = F.cross_entropy(self.out(hidden).reshape(-1, self.out.out_features).float(), labels.reshape(-1),
                              ignore_index=-100)
        sop = F.binary_cross_entropy_with_logits(self.sop(hidden[:, 0])[:, 0].float(), permuted.float())
        return 0.5 * mlm + 0.5 * sop, {'MLM': mlm, 'SOP': sop}


class _SpyOptimizer(_Spy, torch.optim.SGD):
    """SGD, который записывает градиенты на каждом step() и (по желанию) не меняет веса."""
    _state = ('grads', '_events')

    def __init__(self, params, events, lr=0.0, update=False):
        super().__init__(params, lr=lr)
        self._events, self._update, self.grads = events, update, []

    def step(self, closure=None):
        self._events.append('optimizer.step')
        self.grads.append([None if p.grad is None else p.grad.detach().clone()
                           for g in self.param_groups for p in g['params']])
        if self._update:
            return super().step(closure)
        return None


class _SpyScheduler(_Spy):
    _state = ('_events',)

    def __init__(self, optimizer, events):
        self._optimizer, self._events = optimizer, events

    def step(self):
        self._events.append('scheduler.step')

    def get_last_lr(self):
        return [g['lr'] for g in self._optimizer.param_groups]

    get_lr = get_last_lr


def _pretrain_batches(pad_id, vocab=13, n=4):
    batches = []
    for b in range(n):
        seqlen = 5 + b % 3
        x = torch.randint(NUM_SPECIAL, vocab, (3, seqlen))
        lengths = [seqlen, seqlen - 2, 3]
        mask = torch.zeros(3, seqlen, dtype=torch.long)
        for i, length in enumerate(lengths):
            mask[i, :length] = 1
        x = x.masked_fill(mask == 0, pad_id)
        tt = torch.zeros_like(x)
        tt[:, 2:] = 1
        tt = tt * mask
        labels = torch.where((torch.rand(x.shape) < 0.5) & (mask == 1), x, torch.full_like(x, -100))
        labels[:, 1] = x[:, 1]
        permuted = torch.tensor([b % 2, 1, 0], dtype=torch.float)
        batches.append((x, tt, labels, permuted))
    return batches


def _expected_grads(model, batches, pad_id):
    grads = []
    for x, tt, labels, permuted in batches:
        loss, _ = model.loss(x, (x != pad_id).long(), labels, permuted, tt)
        grads.append(torch.autograd.grad(loss, list(model.parameters())))
    return grads


def _rel_err(got, want):
    num = math.sqrt(sum(((g - w) ** 2).sum().item() for g, w in zip(got, want)))
    den = math.sqrt(sum((w ** 2).sum().item() for w in want)) + 1e-12
    return num / den


def _grad_norm(grads):
    return math.sqrt(sum((g ** 2).sum().item() for g in grads))


def _run_trainer(Trainer, name, pad_id, num_accum_steps, max_grad_norm, logdir, batches):
    model = _SpyPretrainModel().eval()  # как после оценки: обучение само переводит модель в train
    events = []
    opt = _SpyOptimizer(model.parameters(), events)
    sched = _SpyScheduler(opt, events)
    args = f'num_accum_steps={num_accum_steps}, max_grad_norm={max_grad_norm}'
    trainer = _construct(Trainer, name, model, opt, sched, pad_id, torch.device('cpu'),
                         num_accum_steps=num_accum_steps, logdir=logdir, max_grad_norm=max_grad_norm)
    _call(f'{name}({args}).train(batches, n_epochs=1)', trainer.train, batches, 1)
    return trainer, model, opt, events, args


def _close_writers(obj):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:
        return 0
    found = 0
    for value in list(vars(obj).values()):
        if isinstance(value, SummaryWriter):
            value.flush()
            value.close()
            found += 1
    return found


def _trainer_logs(trainer, logdir):
    """(число файлов событий, {тег: число точек}) после закрытия SummaryWriter тренера."""
    _close_writers(trainer)
    files = glob.glob(os.path.join(logdir, '**', 'events.out.tfevents*'), recursive=True)
    return len(files), _scalar_tags(logdir)


def _scalar_tags(logdir):
    from tensorboard.backend.event_processing import event_file_loader
    counts = {}
    for path in glob.glob(os.path.join(logdir, '**', 'events.out.tfevents*'), recursive=True):
        for event in event_file_loader.EventFileLoader(path).Load():
            for value in event.summary.value:
                counts[value.tag] = counts.get(value.tag, 0) + 1
    return counts


@_check('Trainer')
def test_trainer(Trainer):
    name = 'Trainer'
    _require_class(Trainer, name)
    pad_id = 1
    batches = _pretrain_batches(pad_id)
    # 1. аккумуляция: 4 батча, num_accum_steps=2 -> 2 шага, градиент = среднее двух батчей
    trainer, model, opt, events, args = _run_trainer(Trainer, name, pad_id, 2, None, None, batches)
    for i, call in enumerate(model.calls):
        x = batches[i][0]
        if not torch.equal((call['mask'] != 0).cpu(), (x != pad_id)):
            _fail(f'{name}: attention_mask в батче {i} не совпадает с input_ids != pad_token_id',
                  'маска строится по pad_token_id, переданному в конструктор')
        if not torch.equal(call['labels'].cpu(), batches[i][2]) or \
                not torch.equal(call['permuted'].float().cpu(), batches[i][3]):
            _fail(f'{name}: в модель переданы не те labels/permuted (порядок аргументов: '
                  'x, attention_mask, labels, permuted, token_type_ids)')
        if call['tt'] is None or not torch.equal(call['tt'].cpu(), batches[i][1]):
            _fail(f'{name}: token_type_ids из батча не переданы в модель',
                  'model(input_ids, attention_mask, labels, permuted, token_type_ids)')
        if not call['training']:
            _fail(f'{name}: во время обучения модель в режиме eval', 'self._model.train()')
    if len(model.calls) != len(batches):
        _fail(f'{name}: на {len(batches)} батчах модель вызвана {len(model.calls)} раз')
    n_opt = events.count('optimizer.step')
    if n_opt != 2:
        _fail(f'{name}({args}): на 4 батчах optimizer.step() вызван {n_opt} раз, ожидалось 2',
              'шаг оптимизатора — каждые num_accum_steps батчей: if (i + 1) % num_accum_steps == 0')
    if events != ['optimizer.step', 'scheduler.step'] * 2:
        _fail(f'{name}: порядок вызовов {events}, ожидалось optimizer.step, scheduler.step после каждого шага',
              'scheduler.step() вызывается сразу ПОСЛЕ каждого optimizer.step()')
    per_batch = _expected_grads(model, batches, pad_id)
    for step in range(2):
        got = opt.grads[step]
        if any(g is None for g in got):
            _fail(f'{name}: на шаге {step} у части параметров нет градиента')
        want = [(a + b) / 2 for a, b in zip(per_batch[2 * step], per_batch[2 * step + 1])]
        err = _rel_err(got, want)
        if err > 2e-2:
            total = [a + b for a, b in zip(per_batch[2 * step], per_batch[2 * step + 1])]
            hint = 'градиент шага должен быть средним по num_accum_steps батчам: loss / num_accum_steps'
            if _rel_err(got, total) < 2e-2:
                hint = 'loss не делится на num_accum_steps: градиенты складываются, а должны усредняться'
            elif step == 1 and _rel_err(got, [w + (a + b) / 2 for w, a, b in zip(
                    want, per_batch[0], per_batch[1])]) < 2e-2:
                hint = 'градиенты не обнуляются после шага: optimizer.zero_grad() после optimizer.step()'
            _fail(f'{name}({args}): градиент на шаге {step} не равен среднему градиентов батчей '
                  f'{2 * step} и {2 * step + 1} (отн. ошибка {err:.3g}, допуск 0.02)', hint)
    # 2. обрезка нормы градиента: норма градиента в момент шага не больше max_grad_norm
    max_norm = 1e-3
    trainer, model, opt, events, args = _run_trainer(Trainer, name, pad_id, 1, max_norm, None, batches)
    if events.count('optimizer.step') != 4:
        _fail(f'{name}({args}): на 4 батчах optimizer.step() вызван {events.count("optimizer.step")} раз, ожидалось 4')
    per_batch = _expected_grads(model, batches, pad_id)
    for step, got in enumerate(opt.grads):
        want = per_batch[step]
        norm = _grad_norm(got)
        if norm > max_norm * (1 + 1e-3):
            _fail(f'{name}({args}): норма градиента на шаге {step} = {norm:.4g} > max_grad_norm = {max_norm}',
                  'torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm) перед optimizer.step()')
        scale = min(1.0, max_norm / _grad_norm(want))
        err = _rel_err(got, [w * scale for w in want])
        if err > 2e-2:
            _fail(f'{name}({args}): после обрезки нормы градиента градиент на шаге {step} не совпадает с '
                  f'ожидаемым: норма {norm:.4g} (ожидалась {min(max_norm, _grad_norm(want)):.4g}), '
                  f'относительная ошибка {err:.3g} (направление должно сохраняться, норма — не больше '
                  f'max_grad_norm)')
    # 3. логи tensorboard
    with _tempdir('bert_trainer_check_') as logdir:
        trainer, model, opt, events, args = _run_trainer(Trainer, name, pad_id, 2, 1.0, logdir, batches)
        # логи пишет код студента: их сводка — такой же результат его вызова, как и прочие
        files, counts = _call('логи tensorboard', _trainer_logs, trainer, logdir)
        if not files:
            _fail(f'{name}(logdir=...): в logdir нет логов tensorboard', 'SummaryWriter(logdir) и writer.add_scalar')
    if len(counts) < 3 or max(counts.values(), default=0) < len(batches):
        _fail(f'{name}(logdir=...): записаны скаляры {counts} (тег: число точек); ожидались лосс на каждом '
              f'из {len(batches)} батчей, норма градиента и lr на каждом шаге')


# ----------------------------------------------------------------------------------------------
# Часть 4. Дообучение
# ----------------------------------------------------------------------------------------------

@_check('FinetuneDataset')
def test_finetune_dataset(FinetuneDataset, tokenizer):
    name = 'FinetuneDataset'
    _require_class(FinetuneDataset, name)
    if tokenizer is None or inspect.isclass(tokenizer):
        _fail('вторым аргументом передайте объект токенизатора')
    ids = _tokenizer_ids(tokenizer)
    texts = np.array(_RECEIPTS[:12], dtype=object)
    targets = np.arange(12, dtype=np.int64) * 7 % 96
    maxlen = 4
    expected = [[ids['cls_token_id']] + _tok(tokenizer, t)[:maxlen] + [ids['sep_token_id']] for t in texts]
    for presort in (False, True):
        ds = _call(f'{name}(texts, targets, tokenizer, maxlen={maxlen}, presort={presort})', FinetuneDataset,
                   texts, targets, tokenizer=tokenizer, maxlen=maxlen, presort=presort)
        n = _dataset_len(ds, name)
        if n != len(texts):
            _fail(f'len(ds) = {n}, ожидалось {len(texts)} (число текстов)')
        pairs = []
        for i in range(n):
            item = _call(f'ds[{i}]', ds.__getitem__, i)
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                _fail(f'ds[{i}] должен возвращать (input_ids, target), получено {_kind(item)}')
            input_ids, target = item
            _tensor(input_ids, f'ds[{i}]: input_ids', ndim=1)
            if input_ids.dtype != torch.long:
                _fail(f'ds[{i}]: input_ids должен быть torch.long, получен {input_ids.dtype}')
            pairs.append((input_ids.tolist(), _int(target, f'ds[{i}]: target')))
        if not presort:
            for i, (got, target) in enumerate(pairs):
                if got != expected[i]:
                    _fail(f'ds[{i}]: input_ids = {got}, ожидалось [CLS] + tokenizer(text)[:maxlen] + [SEP] = '
                          f'{expected[i]}')
                if target != int(targets[i]):
                    _fail(f'ds[{i}]: target = {target}, ожидалось {int(targets[i])}')
        else:
            lengths = [len(p[0]) for p in pairs]
            if lengths != sorted(lengths):
                _fail(f'presort=True: длины {lengths} не отсортированы по возрастанию')
            want = sorted((tuple(e), int(t)) for e, t in zip(expected, targets))
            if sorted((tuple(p), t) for p, t in pairs) != want:
                _fail('presort=True: после сортировки тексты и метки перепутаны (сортируйте их вместе)')


@_check('collate_fn')
def test_collate_fn(collate_fn):
    _require_function(collate_fn, 'collate_fn')
    seqs = [[2, 10, 11, 3], [2, 12, 3], [2, 13, 14, 15, 16, 3]]
    targets = [5, 0, 95]
    for pad in (0, 7):
        batch = [(torch.tensor(s, dtype=torch.long), t) for s, t in zip(seqs, targets)]
        out = _call(f'collate_fn(batch, pad_idx={pad})', collate_fn, batch, pad)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            _fail(f'collate_fn должен возвращать (input_ids, targets), получено {_kind(out)}')
        input_ids, target_t = out
        _tensor(input_ids, 'input_ids', shape=(3, 6))
        _tensor(target_t, 'targets', shape=(3,))
        if input_ids.dtype != torch.long or target_t.dtype != torch.long:
            _fail(f'input_ids и targets должны быть torch.long, получено {input_ids.dtype}, {target_t.dtype}')
        want = torch.tensor([s + [pad] * (6 - len(s)) for s in seqs])
        if not torch.equal(input_ids, want):
            _fail(f'collate_fn(batch, pad_idx={pad}): input_ids =\n{input_ids.tolist()}\nожидалось\n{want.tolist()}',
                  'pad_sequence(..., batch_first=True, padding_value=pad_idx)')
        if not torch.equal(target_t, torch.tensor(targets)):
            _fail(f'targets = {target_t.tolist()}, ожидалось {targets}')


def _finetune_parts(name, model, classes):
    no_backbone = lambda m: not _contains(m, lambda x: _is_linear(x, H, 3 * H))
    block = _head_block(name, model, lambda m: _is_linear(m, H, classes),
                        lambda m: no_backbone(m) and _contains(m, lambda x: _is_linear(x, H, H)),
                        f'голову классификации nn.Linear({H}, {classes})')
    return _cls_parts(name, block, H, classes)


@_check('BertFinetuneModel')
def test_finetune_model(BertFinetuneModel):
    name = 'BertFinetuneModel'
    classes = 7
    model = _module(BertFinetuneModel, name, **_model_kwargs(num_classes=classes, act_func='gelu'))
    _check_params(name, model, _bert_params() + H * H + H + classes * H + classes,
                  'Bert + ClassifierHead(num_classes)')
    _check_eps_passed(name, _module(BertFinetuneModel, name, **_model_kwargs(num_classes=classes, act_func='gelu',
                                                                           eps=0.5)))
    _check_block_dropout(name, lambda **kw: _module(BertFinetuneModel, name, **_model_kwargs(num_classes=classes, **kw)),
                         'hidden_dropout_prob', 'передайте {arg} в Bert (а оттуда в каждый BertLayer)')
    _randomize(model, scale=1.5)
    model.eval()
    dense, out = _finetune_parts(name, model, classes)
    emb_w, layers = _map_backbone(name, model, 'gelu')
    x, mask2, _ = _model_inputs()
    logits = _call('forward(x, attention_mask)', model, x, mask2)
    hidden = _backbone_forward_ref(emb_w, layers, x, mask2, torch.zeros_like(x))
    _compare(f'{name}: логиты', logits, _ref_cls_logits(dense, out, hidden), atol=ATOL_DEEP,
             hint='Bert -> ClassifierHead без permuted -> логиты B x num_classes')
    short = _call('forward на строке без паддинга', model, x[1:2, :6], mask2[1:2, :6])
    diff = (short[0] - logits[1]).abs().max().item()
    if diff > ATOL_DEEP:
        _fail(f'{name}: логиты зависят от паддинга (наибольшее расхождение {diff:.3g}, допуск {ATOL_DEEP:g})')


@_check('load_weights')
def test_load_weights(load_weights, BertModel, BertFinetuneModel):
    _require_function(load_weights, 'load_weights')
    pre = _module(BertModel, 'BertModel', **_model_kwargs())
    _randomize(pre)
    ft = _module(BertFinetuneModel, 'BertFinetuneModel', **_model_kwargs(num_classes=7))
    before = {k: v.detach().clone() for k, v in ft.state_dict().items()}
    pre_state = {k: v.detach().clone() for k, v in pre.state_dict().items()}
    with _tempdir('bert_weights_check_') as tmp:
        path = os.path.join(tmp, 'pretrained_weights.pt')
        torch.save(pre.state_dict(), path)
        found = _call('load_weights(model, path)', load_weights, ft, path)
    if not isinstance(found, (list, tuple)) or not all(isinstance(n, str) for n in found):
        _fail(f'load_weights должен возвращать список имён загруженных тензоров, получено {type(found).__name__}')
    expected = {k for k, v in pre_state.items() if k in before and tuple(before[k].shape) == tuple(v.shape)}
    if set(found) != expected:
        missing, extra = sorted(expected - set(found)), sorted(set(found) - expected)
        _fail(f'load_weights вернул не тот список: не хватает {missing[:5]}, лишние {extra[:5]}')
    if len(expected) < 10:
        _fail('у BertModel и BertFinetuneModel почти нет общих весов: используйте одинаковые имена (_backbone)')
    after = ft.state_dict()
    for k, v in after.items():
        want = pre_state[k] if k in expected else before[k]
        if not torch.equal(v.detach(), want):
            _fail(f'load_weights: тензор {k} ' + ('не загружен' if k in expected else 'изменён, хотя не должен'))


class _SpyClassifier(_Spy, nn.Module):
    """Модель с сигнатурой BertFinetuneModel.forward(x, attention_mask) -> логиты."""
    _state = ('calls',)

    def __init__(self, vocab=13, classes=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, 8)
        self.out = nn.Linear(8, classes)
        self.calls = []

    def forward(self, x, attention_mask):
        logits = self.logits(x, attention_mask)
        self.calls.append(dict(x=x.detach().clone(), mask=attention_mask.detach().clone(), training=self.training,
                               grad=torch.is_grad_enabled(), logits=logits.detach().clone()))
        return logits

    def logits(self, x, attention_mask):
        hidden = (self.emb(x) * attention_mask[..., None].float()).sum(1)
        return self.out(hidden)


def _finetune_batches(pad_id, n=3, vocab=13, classes=4):
    batches = []
    for b in range(n):
        seqlen = 4 + b
        x = torch.randint(NUM_SPECIAL, vocab, (4, seqlen))
        for i, length in enumerate([seqlen, seqlen - 1, 2, seqlen]):
            x[i, length:] = pad_id
        batches.append((x, torch.randint(0, classes, (4,))))
    return batches


def _check_masks(name, model, pad_id, what):
    for call in model.calls:
        if not torch.equal((call['mask'] != 0).cpu(), call['x'] != pad_id):
            _fail(f'{name}.{what}: attention_mask не совпадает с input_ids != pad_token_id')


@_check('FinetuneTrainer')
def test_finetune_trainer(FinetuneTrainer):
    name = 'FinetuneTrainer'
    _require_class(FinetuneTrainer, name)
    pad_id = 1
    model = _SpyClassifier()
    events = []
    opt = _SpyOptimizer(model.parameters(), events, lr=0.5, update=True)
    sched = _SpyScheduler(opt, events)
    trainer = _construct(FinetuneTrainer, name, model, opt, sched, pad_id, torch.device('cpu'))
    batches = _finetune_batches(pad_id)
    # eval
    before = [p.detach().clone() for p in model.parameters()]
    model.calls.clear()
    model.train()
    value = _call('_eval_step(dataloader)', trainer._eval_step, batches)
    value = _float(value, f'{name}._eval_step: возвращаемое значение')
    if len(model.calls) != len(batches):
        _fail(f'{name}._eval_step: модель вызвана {len(model.calls)} раз на {len(batches)} батчах')
    if any(c['training'] for c in model.calls):
        _fail(f'{name}._eval_step: модель в режиме train во время оценки', 'self._model.eval()')
    if any(c['grad'] for c in model.calls):
        _fail(f'{name}._eval_step: граф градиентов строится во время оценки', 'оберните цикл в torch.no_grad()')
    if events or any(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters())):
        _fail(f'{name}._eval_step: веса модели изменились во время оценки')
    _check_masks(name, model, pad_id, '_eval_step')
    want = float(np.mean([F.cross_entropy(c['logits'], y).item() for c, (_, y) in zip(model.calls, batches)]))
    if not math.isclose(value, want, rel_tol=1e-3, abs_tol=1e-5):
        _fail(f'{name}._eval_step вернул {value:.5f}, ожидалась средняя кросс-энтропия {want:.5f}',
              'nn.CrossEntropyLoss на логитах и метках; среднее по батчам/объектам')
    # train
    model.calls.clear()
    value = _call('_train_step(dataloader)', trainer._train_step, batches)
    value = _float(value, f'{name}._train_step: возвращаемое значение')
    if len(model.calls) != len(batches):
        _fail(f'{name}._train_step: модель вызвана {len(model.calls)} раз на {len(batches)} батчах')
    if not all(c['training'] for c in model.calls):
        _fail(f'{name}._train_step: модель в режиме eval во время обучения (после _eval_step)',
              'в начале _train_step вызовите self._model.train()')
    _check_masks(name, model, pad_id, '_train_step')
    want = float(np.mean([F.cross_entropy(c['logits'], y).item() for c, (_, y) in zip(model.calls, batches)]))
    if not math.isclose(value, want, rel_tol=1e-3, abs_tol=1e-5):
        _fail(f'{name}._train_step вернул {value:.5f}, ожидался средний лосс по батчам {want:.5f}')
    if events != ['optimizer.step', 'scheduler.step'] * len(batches):
        _fail(f'{name}._train_step: вызовы {events}, ожидалось optimizer.step, scheduler.step на каждом батче')
    if all(torch.equal(a, b.detach()) for a, b in zip(before, model.parameters())):
        _fail(f'{name}._train_step: веса модели не изменились')
    # predict
    model.calls.clear()
    inputs = [x for x, _ in batches]
    preds = _call('predict(dataloader)', trainer.predict, inputs)
    total = sum(len(x) for x in inputs)
    if not isinstance(preds, np.ndarray):
        _fail(f'{name}.predict должен возвращать np.ndarray, получен {type(preds).__name__}',
              'соберите предсказания и верните .cpu().numpy()')
    if preds.shape != (total,) or not np.issubdtype(preds.dtype, np.integer):
        _fail(f'{name}.predict: ожидался массив целых формы ({total},), получен {preds.dtype} формы {preds.shape}',
              'argmax по классам для каждого объекта')
    if any(c['training'] for c in model.calls):
        _fail(f'{name}.predict: модель в режиме train', 'self._model.eval()')
    _check_masks(name, model, pad_id, 'predict')
    with torch.no_grad():
        want = torch.cat([model.logits(x, (x != pad_id).long()).argmax(-1) for x in inputs]).numpy()
    if not np.array_equal(preds.astype(np.int64), want):
        _fail(f'{name}.predict: предсказания {preds.tolist()} не совпадают с argmax логитов {want.tolist()}')


# --------------------------------------------------------------------------------------------
# Оценка за качество на тесте: файл предсказаний
# --------------------------------------------------------------------------------------------

def _fail_f1(message, hint=None):
    raise CheckError(f'Файл предсказаний: {message}' + (f'\n  Подсказка: {hint}' if hint else ''))


def check_predictions(path, test_texts):
    """Проверяет файл предсказаний без меток теста: колонки text,label, метки — номера категорий,
    ровно одна строка на каждый тестовый текст. Возвращает число строк."""
    import pandas as pd
    path = os.fspath(path)
    if not os.path.isfile(path):
        _fail_f1(f'{path} не найден',
                 'выполните ячейку, которая сохраняет test_predictions.csv, и приложите файл к решению')
    if os.path.getsize(path) > PREDICTIONS_MAX_MB * 2 ** 20:
        _fail_f1(f'{path} больше {PREDICTIONS_MAX_MB} МБ — это не файл предсказаний')
    try:
        predictions = pd.read_csv(path, keep_default_na=False, dtype=str)
    except Exception as exc:  # файл есть, но это не таблица
        _fail_f1(f'{path} не читается как CSV: {type(exc).__name__}: {str(exc)[:200]}')
    if list(predictions.columns) != ['text', 'label']:
        _fail_f1(f'ожидаются колонки text,label, получены {list(predictions.columns)[:5]}',
                 "сохраняйте pd.DataFrame({'text': test['text'], 'label': preds}).to_csv(path, index=False)")
    labels = predictions['label'].str.strip()
    bad = labels[~labels.str.fullmatch(r'\d+')]
    if len(bad):
        _fail_f1(f'в колонке label должны быть номера категорий, а в {len(bad)} строках не так: '
                 f'{bad.head(3).tolist()}')
    texts = predictions['text']
    repeated = texts[texts.duplicated()]
    if len(repeated):
        _fail_f1(f'тексты повторяются: {len(repeated)} лишних строк, например {repeated.iloc[0]!r}',
                 'нужна ровно одна строка на каждый тестовый текст')
    expected = set(map(str, test_texts))
    missing, extra = expected - set(texts), set(texts) - expected
    if missing:
        _fail_f1(f'нет предсказаний для {len(missing)} из {len(expected)} тестовых текстов, '
                 f'например {min(missing)!r}', 'текст без предсказания считается ошибкой')
    if extra:
        _fail_f1(f'{len(extra)} строк с текстами не из теста, например {min(extra)!r}',
                 "предсказывайте для test['text'] и не меняйте сами тексты")
    return len(predictions)


def report_f1(path, test_texts, val_f1=None):
    """Печатает, годится ли файл предсказаний, и F1 на валидации; F1 на тесте считает
    проверяющая система (меток теста у ноутбука нет). Ничего не возвращает."""
    with _quiet():
        rows = check_predictions(path, test_texts)
    note = ''
    if val_f1 is not None:
        note = f'; взвешенная F1 на валидации {float(val_f1):.4f}'
        if val_f1 < F1_FULL_MARKS:
            note += f' — ниже {F1_FULL_MARKS}, модель стоит улучшить'
    print(f'✓ Файл предсказаний {path}: {rows} строк, по одной на каждый тестовый текст{note}. '
          f'F1 на тесте посчитает проверяющая система (полный балл при F1 ≥ {F1_FULL_MARKS})')


# ==============================================================================================
# ==== Ниже — механизм записи и воспроизведения проверок для автопроверки. Для решения задания читать не нужно. ====
# ==============================================================================================

# ----------------------------------------------------------------------------------------------
# Запись и воспроизведение проверки (нужно автопроверке; дома ничего не меняет)
#
# Дома проверка вызывает ваш код и сравнивает результат с эталоном в одном процессе. При
# автопроверке (задана переменная TASK3_RECORD_DIR) та же проверка в вашем ядре ещё и записывает
# всё, что вернул ваш код, и как изменились переданные ему объекты (JSON и массивы numpy, без
# pickle). Балл ставит воспроизведение в процессе проверяющего: тот же код проверки получает
# записанные ответы вместо вызовов вашего кода, а эталоны и сравнения считает сам. Подделать
# запись так, чтобы она прошла сравнение с эталоном, не проще, чем написать компонент.
# ----------------------------------------------------------------------------------------------

_RECORD_DIR_ENV, _RECORD_SEED_ENV = 'TASK3_RECORD_DIR', 'TASK3_RECORD_SEED'
_RECORD_LIMIT = 256 << 20   # байт: и размер записи, и сумма распакованных массивов
_INLINE = 64                   # массивы не больше этого — прямо в JSON
_DTYPES = {str(d).replace('torch.', ''): d for d in (
    torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
    torch.int8, torch.uint8, torch.bool)}
_SESSION = None  # сеанс текущей проверки (_Session)


def _digest(t):
    """Отпечаток содержимого тензора (None для None)."""
    if t is None:
        return None
    flat = t.detach().cpu().contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return hashlib.blake2b(flat.view(torch.uint8).numpy(), digest_size=16).digest()


class _ReplayError(Exception):
    """Запись не согласуется с ходом проверки (подделка, повреждение или ошибка записи)."""


def _plain(value, depth=0):
    """Простое значение атрибута модуля: число, строка, None или кортеж/список таких."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, str) or len(value) <= 200
    if isinstance(value, (tuple, list)) and depth == 0 and len(value) <= 64:
        return all(_plain(v, 1) for v in value)
    return False


def _plain_attrs(module):
    return {k: v for k, v in vars(module).items() if not k.startswith('_') and k.isidentifier() and _plain(v)}


def _torch_base(cls, root):
    """Ближайший класс torch (подкласс root) в MRO: его и восстанавливает воспроизведение."""
    return next(c for c in cls.__mro__ if issubclass(c, root) and c.__module__.split('.')[0] == 'torch')


def _torch_class(path, root):
    """Класс torch по имени 'модуль:имя' из записи; ничего, кроме torch.*, не импортируется."""
    module_name, _, qualname = str(path).partition(':')
    if module_name.split('.')[0] != 'torch' or not module_name.replace('.', '').replace('_', '').isalnum():
        raise _ReplayError(f'недопустимый класс в записи: {path}')
    obj = sys.modules.get(module_name) or __import__(module_name, fromlist=['_'])
    for part in qualname.split('.'):
        obj = getattr(obj, part, None)
    if not (inspect.isclass(obj) and issubclass(obj, root)):
        raise _ReplayError(f'недопустимый класс в записи: {path}')
    return obj


def _stateful(x):
    return isinstance(x, (torch.Tensor, nn.Module, torch.optim.Optimizer)) or hasattr(type(x), '_export_state')


def _collect(values, out, depth=0):
    """Объекты с состоянием среди аргументов вызова (в списках и кортежах — на три уровня)."""
    for v in values:
        if _stateful(v):
            out.append(v)
        elif isinstance(v, (list, tuple)) and depth < 3:
            _collect(v, out, depth + 1)
        elif isinstance(v, dict) and depth < 3:
            _collect(list(v.values()), out, depth + 1)
    return out


class _RestoredModule(nn.Module):
    """Модуль студента при воспроизведении: структура и веса из записи, forward — только из записи."""

    def forward(self, *args, **kwargs):
        raise _ReplayError(f'модуль {type(self).__name__} вызван не через запись')

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith('__'):
                raise
            return _CallableHandle(f'{type(self).__name__}.{name}', owner=self)


class _Handle:
    """Объект студента при воспроизведении (функция, датасет, токенизатор...): только имя."""

    def __init__(self, name, owner=None):
        self._name, self.__self__ = name, owner

    def __getattr__(self, name):
        if name.startswith('__') and name not in ('__getitem__', '__len__'):
            raise AttributeError(name)
        return _CallableHandle(f'{self._name}.{name}', owner=self)

    def __repr__(self):
        return self._name


class _CallableHandle(_Handle):
    def __call__(self, *args, **kwargs):
        raise _ReplayError(f'{self._name} вызван не через запись')


class _Session:
    """Одна проверка: 'live' (дома), 'record' (ядро при автопроверке) или 'replay' (проверяющий)."""

    def __init__(self, mode, check, seed_offset=0, data=None, npz=None):
        self.mode, self.check, self.seed_offset = mode, check, seed_offset
        self.student_rng = None  # состояние генератора torch для кода студента (_call)
        self.depth = 0        # вложенные _call выполняются без записи
        self.refs, self.objects = {}, []   # id(объекта) <-> номер, одинаково при записи и воспроизведении
        self.tracked = {}     # номер -> подпись состояния (запись)
        self.calls, self.size, self.arrays, self.broken = [], 0, {}, None
        self.data, self.npz, self.pos, self.classes = data, npz, 0, {}

    # --- общие для записи и воспроизведения ---
    def add(self, obj):
        self.refs[id(obj)] = len(self.objects)
        self.objects.append(obj)
        return len(self.objects) - 1

    def watch(self, fn, args, kwargs):
        """Объекты проверки, переданные коду студента, получают номер (их состояние пишется после вызова)."""
        for obj in _collect([fn, getattr(fn, '__self__', None), *args, *kwargs.values()], []):
            if id(obj) not in self.refs:
                self.walk(obj)

    def walk(self, obj):
        """Номер объекту и (для модуля) всем его тензорам и подмодулям — в порядке module_state."""
        if id(obj) in self.refs:
            return
        ref = self.add(obj)
        if isinstance(obj, nn.Module):
            for t in list(obj._parameters.values()) + list(obj._buffers.values()):
                if t is not None:
                    self.walk(t)
            for child in obj._modules.values():
                if child is not None:
                    self.walk(child)
        if self.mode == 'record':
            self.tracked[ref] = self.signature(obj)

    # --- запись ---
    def grow(self, n):
        self.size += n
        if self.size > _RECORD_LIMIT:
            raise _ReplayError('запись проверки больше допустимого размера')

    def array(self, a):
        a = np.array(a, copy=True, order='C')  # копия: тензор студента может потом измениться на месте
        if a.dtype.kind not in 'biuf':
            raise _ReplayError(f'массив типа {a.dtype} не записывается')
        self.grow(a.nbytes + 16)
        if a.size <= _INLINE:
            return dict(dtype=a.dtype.str, shape=list(a.shape), data=a.ravel().tolist())
        key = f'a{len(self.arrays)}'
        self.arrays[key] = a
        return dict(dtype=a.dtype.str, shape=list(a.shape), key=key)

    def enc(self, x, depth=0):
        if depth > 30:
            raise _ReplayError('слишком глубокая вложенность')
        if x is None or isinstance(x, (bool, float)):
            return x
        if isinstance(x, str):
            self.grow(len(x))
            return x
        if isinstance(x, int):
            return x if abs(x) < 2 ** 53 else {'bigint': str(x)}
        if isinstance(x, (list, tuple)):
            self.grow(8 * len(x))
            return {type(x).__name__ if type(x) in (list, tuple) else 'tuple': [self.enc(v, depth + 1) for v in x]}
        if isinstance(x, dict):
            self.grow(8 * len(x))
            return {'dict': [[self.enc(k, depth + 1), self.enc(v, depth + 1)] for k, v in x.items()]}
        if isinstance(x, np.generic):
            return {'npscalar': self.array(np.asarray(x))}
        if isinstance(x, np.ndarray) and x.dtype.kind in 'biuf':
            return {'ndarray': self.array(x)}
        if isinstance(x, torch.dtype):
            return {'torch_dtype': str(x)}
        if isinstance(x, torch.device):
            return {'device': str(x)}
        if id(x) in self.refs:
            return {'ref': self.refs[id(x)]}
        if isinstance(x, torch.Tensor):
            ref = self.add(x)
            return dict(tensor=ref, **self.tensor_state(x))
        if isinstance(x, nn.Module):
            ref = self.add(x)
            state = dict(module=ref, **self.module_state(x))
            self.tracked[ref] = self.signature(x)
            return state
        if isinstance(x, torch.optim.Optimizer):
            ref = self.add(x)
            base = _torch_base(type(x), torch.optim.Optimizer)
            state = dict(optimizer=ref, name=type(x).__name__, base=f'{base.__module__}:{base.__qualname__}',
                         groups=self.groups(x))
            self.tracked[ref] = self.signature(x)
            return state
        ref = self.add(x)
        return dict(handle=ref, type=type(x).__name__, name=str(getattr(x, '__name__', type(x).__name__)),
                    isclass=inspect.isclass(x), callable=callable(x))

    def tensor_state(self, t):
        value = t.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        state = dict(dtype=str(t.dtype).replace('torch.', ''), param=isinstance(t, nn.Parameter),
                     rg=bool(t.requires_grad), value=self.array(value.numpy()))
        grad = t.grad if t.is_leaf else None
        if grad is not None:
            state['grad'] = self.array(grad.detach().cpu().float().numpy())
        return state

    def module_state(self, m):
        base = _torch_base(type(m), nn.Module)
        state = dict(name=type(m).__name__, base=f'{base.__module__}:{base.__qualname__}',
                     attrs=self.enc(_plain_attrs(m)), params=[], buffers=[], children=[])
        for name, p in m._parameters.items():
            state['params'].append([name, None if p is None else self.owned(p)])
        for name, b in m._buffers.items():
            state['buffers'].append([name, None if b is None else self.owned(b), name not in m._non_persistent_buffers_set])
        for name, child in m._modules.items():
            state['children'].append([name, None if child is None else self.enc(child)])
        return state

    def owned(self, t):
        """Тензор модуля: его изменения отслеживаются после каждого вызова."""
        state = self.enc(t)
        self.tracked[self.refs[id(t)]] = self.signature(t)
        return state

    def groups(self, opt):
        return [dict(params=[self.enc(p) for p in g['params']],
                     hp=self.enc({k: v for k, v in g.items() if k != 'params'})) for g in opt.param_groups]

    @staticmethod
    def signature(obj):
        """Что о состоянии объекта нужно, чтобы заметить его изменение: для тензора — его байты
        (запись через .data не меняет счётчик версий), а не только адрес и счётчик."""
        sig = []
        if isinstance(obj, torch.Tensor):
            grad = obj.grad if obj.is_leaf else None
            sig.append((obj.data_ptr(), tuple(obj.shape), obj.dtype, obj.requires_grad, id(grad),
                        _digest(obj), _digest(grad)))
        if isinstance(obj, nn.Module):
            sig.append(([(k, id(v)) for k, v in obj._parameters.items()], [(k, id(v)) for k, v in obj._buffers.items()],
                        [(k, id(v)) for k, v in obj._modules.items()], _plain_attrs(obj)))
        if isinstance(obj, torch.optim.Optimizer):
            sig.append([([id(p) for p in g['params']],
                         [(k, float(v) if isinstance(v, torch.Tensor) and v.numel() == 1 else v)
                          for k, v in g.items() if k != 'params']) for g in obj.param_groups])
        if hasattr(type(obj), '_export_state'):
            sig.append(obj._signature())
        return sig

    def refresh(self):
        """Перед вызовом кода студента: изменения, сделанные самой проверкой, не записываются
        (при воспроизведении проверка сделает их сама)."""
        for ref in self.tracked:
            self.tracked[ref] = self.signature(self.objects[ref])

    def changes(self):
        """Что код студента изменил в отслеживаемых объектах за вызов."""
        out = []
        for ref in list(self.tracked):
            obj = self.objects[ref]
            sig = self.signature(obj)
            if sig == self.tracked[ref]:
                continue
            update = {'update': ref}
            if isinstance(obj, torch.Tensor):
                update['tensor'] = self.tensor_state(obj)
            if isinstance(obj, nn.Module):
                update['module'] = self.module_state(obj)
            if isinstance(obj, torch.optim.Optimizer):
                update['groups'] = self.groups(obj)
            if hasattr(type(obj), '_export_state'):
                update['spy'] = self.enc(obj._export_state())
            out.append(update)
            self.tracked[ref] = self.signature(obj)
        return out

    def record(self, what, result=None, error=None):
        if self.broken:
            return
        try:
            entry = {'what': what, 'result': None if error else self.enc(result), 'state': self.changes()}
            if error:
                entry['error'] = error
            self.calls.append(entry)
        except Exception as exc:  # запись не удалась: при автопроверке это провал, дома не мешает
            self.broken = f'запись не удалась: {type(exc).__name__}: {exc}'

    def save(self, error, args, kwargs):
        import json
        try:
            os.makedirs(os.environ[_RECORD_DIR_ENV], exist_ok=True)
            header = dict(version=1, check=self.check, seed_offset=self.seed_offset, calls=self.calls,
                          end=dict(ok=error is None and not self.broken,
                                   message=str(self.broken or error or '')[:4000]))
            header['args'], header['kwargs'] = args, kwargs
            text = json.dumps(header, ensure_ascii=False)
            path = os.path.join(os.environ[_RECORD_DIR_ENV], _record_name(self.check) + '.npz')
            with open(path + '.tmp', 'wb') as f:
                np.savez(f, record=np.frombuffer(text.encode(), dtype=np.uint8), **self.arrays)
            os.replace(path + '.tmp', path)
        except Exception:  # дома и в ядре не мешаем: нет файла — нет балла, и только
            pass

    # --- воспроизведение ---
    def dec_array(self, d):
        dtype = np.dtype(str(d['dtype']))
        shape = tuple(int(s) for s in d['shape'])
        if dtype.kind not in 'biuf' or dtype.itemsize > 8 or any(s < 0 for s in shape):
            raise _ReplayError(f'недопустимый массив в записи: {dtype} {shape}')
        if 'key' in d:
            key = str(d['key'])
            if key == 'record' or key not in self.npz.files:
                raise _ReplayError(f'нет массива {key} в записи')
            a = self.npz[key]
        else:
            a = np.array(d['data'], dtype=dtype)
        if a.dtype != dtype or a.size != int(np.prod(shape, dtype=np.int64)):
            raise _ReplayError('массив в записи не совпадает с описанием')
        return a.reshape(shape)

    def dec(self, x, depth=0):
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if depth > 30:
            raise _ReplayError('слишком глубокая вложенность')
        if not isinstance(x, dict) or len(x) == 0:
            raise _ReplayError('неизвестное значение в записи')
        kind = next(iter(x))
        if kind == 'bigint':
            return int(x['bigint'][:400])
        if kind in ('list', 'tuple'):
            items = [self.dec(v, depth + 1) for v in x[kind]]
            return items if kind == 'list' else tuple(items)
        if kind == 'dict':
            return {self.dec(k, depth + 1): self.dec(v, depth + 1) for k, v in x['dict']}
        if kind == 'npscalar':
            return self.dec_array(x['npscalar'])[()]
        if kind == 'ndarray':
            return self.dec_array(x['ndarray']).copy()
        if kind == 'torch_dtype':
            return _DTYPES[str(x['torch_dtype']).replace('torch.', '')]
        if kind == 'device':
            return torch.device('cpu')
        if kind == 'ref':
            return self.objects[int(x['ref'])]
        if kind in ('tensor', 'module', 'optimizer', 'handle') and int(x[kind]) != len(self.objects):
            raise _ReplayError('номера объектов в записи не совпадают с ходом проверки')
        if kind == 'tensor':
            t = self.new_tensor(x)
            self.add(t)
            return t
        if kind == 'module':
            base = _torch_class(x['base'], nn.Module)
            name = str(x['name'])
            cls = base if name == base.__name__ else self.restored_class(
                name, *((_RestoredModule,) if base is nn.Module else (_RestoredModule, base)))
            m = cls.__new__(cls)
            nn.Module.__init__(m)
            self.add(m)
            self.apply_module(m, x)
            return m
        if kind == 'optimizer':
            base = _torch_class(x['base'], torch.optim.Optimizer)
            name = str(x['name'])
            cls = base if name == base.__name__ else self.restored_class(name, base)
            opt = cls.__new__(cls)
            self.add(opt)
            opt.defaults, opt.state, opt.param_groups = {}, {}, self.dec_groups(x['groups'])
            return opt
        if kind == 'handle':
            name = str(x['name'])[:200]
            if x['isclass']:
                obj = self.restored_class(name, _CallableHandle)
            else:  # type(obj).__name__ и callable(obj) — как у живого объекта
                cls = self.restored_class(str(x['type'])[:200], _CallableHandle if x['callable'] else _Handle)
                obj = cls(name)
            self.add(obj)
            return obj
        raise _ReplayError(f'неизвестное значение в записи: {kind}')

    def restored_class(self, name, *bases):
        if not name.isidentifier():
            name = 'Restored'
        key = (name, bases)
        if key not in self.classes:
            self.classes[key] = type(name, bases, {})
        return self.classes[key]

    def new_tensor(self, d):
        if str(d['dtype']) not in _DTYPES:
            raise _ReplayError(f'недопустимый тип тензора: {d["dtype"]}')
        dtype = _DTYPES[str(d['dtype'])]
        t = torch.from_numpy(self.dec_array(d['value']).copy()).to(dtype)
        if d['param']:
            t = nn.Parameter(t, requires_grad=bool(d['rg']) and t.is_floating_point())
        elif d['rg'] and t.is_floating_point():
            t.requires_grad_(True)
        if 'grad' in d and t.is_floating_point():
            t.grad = torch.from_numpy(self.dec_array(d['grad']).copy()).to(dtype)
        return t

    def dec_groups(self, groups):
        out = []
        for g in groups:
            hp = self.dec(g['hp'])
            if not isinstance(hp, dict):
                raise _ReplayError('группа оптимизатора в записи испорчена')
            hp['params'] = [self.dec(p) for p in g['params']]
            out.append(hp)
        return out

    def apply_module(self, m, state):
        attrs = self.dec(state['attrs'])
        if not isinstance(attrs, dict) or not all(isinstance(k, str) and k.isidentifier()
                                                   and not k.startswith('_') for k in attrs):
            raise _ReplayError('атрибуты модуля в записи испорчены')
        for k, v in attrs.items():
            object.__setattr__(m, k, v)
        params = [(str(name), None if p is None else self.dec(p)) for name, p in state['params']]
        buffers = [(str(name), None if b is None else self.dec(b), bool(keep)) for name, b, keep in state['buffers']]
        children = [(str(name), None if c is None else self.dec(c)) for name, c in state['children']]
        if not all(p is None or isinstance(p, nn.Parameter) for _, p in params) or \
                not all(b is None or isinstance(b, torch.Tensor) for _, b, _ in buffers) or \
                not all(c is None or isinstance(c, nn.Module) for _, c in children):
            raise _ReplayError('структура модуля в записи испорчена')
        m._parameters = dict(params)
        m._buffers = {name: b for name, b, _ in buffers}
        m._non_persistent_buffers_set = {name for name, _, keep in buffers if not keep}
        m._modules = dict(children)

    def apply(self, update):
        obj = self.objects[int(update['update'])]
        if 'tensor' in update:
            if not isinstance(obj, torch.Tensor):
                raise _ReplayError('обновление тензора для другого объекта')
            new = self.new_tensor(update['tensor'])
            with torch.no_grad():
                obj.data = new.data
            if obj.is_leaf and obj.is_floating_point():
                obj.requires_grad_(new.requires_grad)
                obj.grad = new.grad
        if 'module' in update:
            if not isinstance(obj, nn.Module):
                raise _ReplayError('обновление модуля для другого объекта')
            self.apply_module(obj, update['module'])
        if 'groups' in update:
            if not isinstance(obj, torch.optim.Optimizer):
                raise _ReplayError('обновление оптимизатора для другого объекта')
            obj.param_groups[:] = self.dec_groups(update['groups'])
        if 'spy' in update:
            if not hasattr(type(obj), '_export_state'):
                raise _ReplayError('обновление шпиона для другого объекта')
            obj._import_state(self.dec(update['spy']))

    def replay(self, what):
        calls = self.data['calls']
        if self.pos >= len(calls):
            end = self.data['end']
            if not end['ok']:
                raise CheckError(str(end['message']))
            raise _ReplayError('запись короче проверки')
        entry = calls[self.pos]
        self.pos += 1
        if entry['what'] != what:
            raise _ReplayError(f'в записи вызов {str(entry["what"])[:100]!r}, в проверке {what[:100]!r}')
        result = self.dec(entry['result'])
        for update in entry['state']:
            self.apply(update)
        if entry.get('error') is not None:
            raise CheckError(str(entry['error'])[:4000])
        return result


_SEED_OFFSET = 0  # для тестов курса: прогон проверок с другими внутренними seed


def _kernel_session(check):
    """Сеанс проверки, вызванной в ноутбуке: 'record' при автопроверке, иначе 'live' (см. _check)."""
    if os.environ.get(_RECORD_DIR_ENV):  # автопроверка: ещё и записать ход проверки
        try:
            offset = int(os.environ.get(_RECORD_SEED_ENV, '0'))
        except ValueError:
            offset = 0
        return _Session('record', check, offset)
    return _Session('live', check)


def _run_check(check, session, args, kwargs):
    """Выполняет тело проверки в сеансе session; возвращает CheckError или None."""
    global _SESSION
    component, error = check.component, None
    with _quiet(), _seeded(check.seed + _SEED_OFFSET + session.seed_offset), _single_thread(), \
            torch.enable_grad():
        _SESSION = session
        try:
            if session.mode == 'record':
                try:
                    encoded = ([session.enc(a) for a in args], [[k, session.enc(v)] for k, v in kwargs.items()])
                except Exception as exc:
                    session.broken, encoded = f'запись аргументов не удалась: {type(exc).__name__}: {exc}', ([], [])
            check.body(*args, **kwargs)
        except CheckError as e:
            error = e
        except _ReplayError:
            if session.mode == 'replay':
                raise
            error = CheckError(f'{component}: внутренняя ошибка записи проверки')
        except Exception as e:  # ошибка в самой проверке из-за неожиданного объекта
            error = CheckError(f'{component}: проверка упала на вашем объекте: '
                               f'{type(e).__name__}: {e}{_where(e)}')
        finally:
            _SESSION = None
    if error is not None:
        message = str(error)
        if not message.startswith(component):
            message = f'{component}: {message}'
        error = CheckError(message)
    if session.mode == 'record':
        session.save(error, *encoded)
    return error


def _record_name(check):
    """'test_x@N' в ячейке ноутбука с номером N (балл ставится по записи из ячейки проверки, а не
    по вызову той же проверки в другой ячейке), 'test_x' вне IPython."""
    shell = getattr(sys.modules.get('IPython'), 'get_ipython', lambda: None)()
    count = getattr(shell, 'execution_count', None)
    return f'{check}@{count}' if isinstance(count, int) else check


def _load_record(path):
    """Запись проверки: (заголовок JSON, npz). Файл читается как данные: размеры ограничены, pickle запрещён."""
    import json
    import zipfile
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > _RECORD_LIMIT:
        raise _ReplayError('файла записи нет, это не обычный файл или он слишком большой')
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > 100_000 or sum(m.file_size for m in members) > _RECORD_LIMIT:
            raise _ReplayError('запись слишком большая')
    npz = np.load(path, allow_pickle=False)
    header = json.loads(npz['record'].tobytes().decode('utf-8'))
    if not isinstance(header, dict) or header.get('version') != 1:
        raise _ReplayError('неизвестный формат записи')
    return header, npz


def judge(check_name, path, seed_offset):
    """Воспроизводит запись проверки check_name (файл path) в этом процессе: (прошла ли, сообщение).

    Для автопроверки: код студента здесь не выполняется, эталоны и сравнения считаются заново.
    """
    check = globals().get(check_name)
    if check_name not in __all__ or not hasattr(check, 'body'):
        return False, f'нет проверки {check_name}'
    try:
        header, npz = _load_record(path)
        if header.get('check') != check_name or header.get('seed_offset') != seed_offset:
            raise _ReplayError('запись сделана другой проверкой или с другим seed')
        session = _Session('replay', check_name, seed_offset, header, npz)
        with _quiet():
            args = [session.dec(a) for a in header['args']]
            kwargs = {str(k): session.dec(v) for k, v in header['kwargs']}
        error = _run_check(check, session, args, kwargs)
        if error is None and (session.pos != len(header['calls']) or not header['end']['ok']):
            raise _ReplayError('проверка прошла, а запись говорит о другом ходе проверки')
    except CheckError as e:
        return False, str(e)
    except Exception as e:  # подделка, повреждение или несогласованная запись
        return False, f'{check.component}: запись проверки не принята ({type(e).__name__}: {str(e)[:300]})'
    return error is None, '✓' if error is None else str(error)
