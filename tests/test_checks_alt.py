"""The student checks (solutions/task3_bert/tests.py) judge behaviour, not one way of writing code.

- every check passes on an independent correct implementation (tests/alt_solution.py), prints exactly
  one line and nothing on stderr;
- the released stubs (NotImplementedError) and bad inputs fail with a short Russian message that
  names the component;
- statistical checks are not flaky: they pass under many caller seeds and many internal seeds,
  and they leave the caller's random state as it was.
"""
import random
import re

import numpy as np
import pytest
import torch
from torch import nn

from tests import alt_solution as alt

CHECK_NAMES = [
    'test_tokenizer', 'test_dataset', 'test_collator', 'test_init_layer', 'test_bert_embeddings',
    'test_attention', 'test_feedforward', 'test_bert_layer', 'test_bert', 'test_mlm_head',
    'test_classifier_head', 'test_bert_model', 'test_optimizer', 'test_scheduler', 'test_trainer',
    'test_finetune_dataset', 'test_collate_fn', 'test_finetune_model', 'test_load_weights',
    'test_finetune_trainer',
]

COMPONENT = {
    'test_tokenizer': 'WordpieceTokenizer', 'test_dataset': 'PretrainDataset', 'test_collator': 'Collator',
    'test_init_layer': 'init_layer', 'test_bert_embeddings': 'BertEmbeddings',
    'test_attention': 'MultiHeadSelfAttention', 'test_feedforward': 'FeedForward', 'test_bert_layer': 'BertLayer',
    'test_bert': 'Bert', 'test_mlm_head': 'MlmHead', 'test_classifier_head': 'ClassifierHead',
    'test_bert_model': 'BertModel', 'test_optimizer': 'get_optimizer', 'test_scheduler': 'Scheduler',
    'test_trainer': 'Trainer', 'test_finetune_dataset': 'FinetuneDataset', 'test_collate_fn': 'collate_fn',
    'test_finetune_model': 'BertFinetuneModel', 'test_load_weights': 'load_weights',
    'test_finetune_trainer': 'FinetuneTrainer',
}

CYRILLIC = re.compile('[а-яА-ЯёЁ]')


@pytest.fixture(scope='session')
def objects(tmp_path_factory):
    return alt.make_objects(tmp_path_factory.mktemp('alt'))


def assert_clear_failure(checks, name, args, capfd):
    """The check fails with a short Russian CheckError naming the component; nothing on stdout/stderr."""
    with pytest.raises(AssertionError) as info:
        getattr(checks, name)(*args)
    assert isinstance(info.value, checks.CheckError), type(info.value)
    message = str(info.value)
    out, err = capfd.readouterr()
    assert err == '', err
    assert out == '', out
    assert message.startswith(COMPONENT[name]), message
    assert CYRILLIC.search(message), message
    assert 'Traceback' not in message and len(message) < 2000, message
    assert info.value.__cause__ is None and info.value.__suppress_context__, 'traceback must be short'
    return message


EXTRA = ['test_min_len', 'report_f1', 'check_predictions']  # tests below and test_f1_points.py


def test_every_check_has_a_component(checks):
    assert sorted(CHECK_NAMES + EXTRA) == sorted(checks.__all__)


@pytest.mark.parametrize('value', [5, np.int64(5), torch.tensor(5), 5.0])
def test_min_len_accepts_the_smallest_length(checks, value, capfd):
    capfd.readouterr()
    checks.test_min_len(value)
    assert capfd.readouterr() == ('✓ MIN_LEN: все проверки пройдены\n', '')


@pytest.mark.parametrize('value', [4, 6, 1, 0, None, '5', 5.5, torch.tensor([5, 5])])
def test_min_len_rejects_wrong_values(checks, value, capfd):
    capfd.readouterr()
    with pytest.raises(AssertionError) as info:
        checks.test_min_len(value)
    message = str(info.value)
    assert message.startswith('MIN_LEN') and CYRILLIC.search(message), message
    assert capfd.readouterr() == ('', '')


@pytest.mark.parametrize('name', CHECK_NAMES)
def test_passes_on_alt_solution(checks, objects, name, capfd, recording):
    capfd.readouterr()
    getattr(checks, name)(*objects[name])
    out, err = capfd.readouterr()
    assert err == ''
    assert out == f'✓ {COMPONENT[name]}: все проверки пройдены\n'
    assert recording(name) == (True, '✓')  # the grader's replay of the same run agrees


# --- stubs, as released to students (bodies raise NotImplementedError) ----------------------------

class StubModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        raise NotImplementedError


class StubForwardModule(nn.Module):
    """Constructor works (a student filled __init__), forward is still the stub."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, *args, **kwargs):
        raise NotImplementedError


class StubPlain:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError


def stub_function(*args, **kwargs):
    raise NotImplementedError


class StubTokenizer:
    def __call__(self, text):
        raise NotImplementedError

    @property
    def vocab_size(self):
        raise NotImplementedError

    cls_token_id = pad_token_id = mask_token_id = sep_token_id = vocab_size


class StubDataset(torch.utils.data.Dataset):
    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    @property
    def tokenizer(self):
        return self._tokenizer

    def __len__(self):
        return 10

    def __getitem__(self, idx):
        raise NotImplementedError


class StubCollator:
    def __call__(self, batch):
        raise NotImplementedError


class StubScheduler:
    def __init__(self, optimizer, *args):
        self._optimizer = optimizer
        self._step = 0
        raise NotImplementedError


class StubTrainer:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError


def stub_args(name, objects):
    tokenizer = objects['test_tokenizer'][0]
    model = objects['test_optimizer'][1]
    return {
        'test_tokenizer': (StubTokenizer(),),
        'test_dataset': (StubDataset(tokenizer),),
        'test_collator': (objects['test_dataset'][0], StubCollator()),
        'test_init_layer': (stub_function,),
        'test_bert_embeddings': (StubModule,),
        'test_attention': (StubModule,),
        'test_feedforward': (StubModule,),
        'test_bert_layer': (StubModule,),
        'test_bert': (StubModule,),
        'test_mlm_head': (StubModule, alt.BertEmbeddings),
        'test_classifier_head': (StubModule,),
        'test_bert_model': (StubModule,),
        'test_optimizer': (stub_function, model),
        'test_scheduler': (StubScheduler, alt.get_optimizer, model),
        'test_trainer': (StubTrainer,),
        'test_finetune_dataset': (StubPlain, tokenizer),
        'test_collate_fn': (stub_function,),
        'test_finetune_model': (StubModule,),
        'test_load_weights': (stub_function, alt.BertModel, alt.BertFinetuneModel),
        'test_finetune_trainer': (StubTrainer,),
    }[name]


@pytest.mark.parametrize('name', CHECK_NAMES)
def test_stub_fails_clearly(checks, objects, name, capfd):
    capfd.readouterr()
    message = assert_clear_failure(checks, name, stub_args(name, objects), capfd)
    assert 'не реализовано' in message or 'NotImplementedError' in message, message


MODULE_CHECKS = ['test_bert_embeddings', 'test_attention', 'test_feedforward', 'test_bert_layer', 'test_bert',
                 'test_classifier_head', 'test_bert_model', 'test_finetune_model']


@pytest.mark.parametrize('name', MODULE_CHECKS)
def test_forward_stub_fails_clearly(checks, name, capfd):
    capfd.readouterr()
    assert_clear_failure(checks, name, (StubForwardModule,), capfd)


@pytest.mark.parametrize('name', CHECK_NAMES)
def test_none_fails_clearly(checks, objects, name, capfd):
    capfd.readouterr()
    args = list(objects[name])
    args[0] = None
    assert_clear_failure(checks, name, tuple(args), capfd)


CLASS_CHECKS = MODULE_CHECKS + ['test_scheduler', 'test_trainer', 'test_finetune_trainer', 'test_finetune_dataset']


@pytest.mark.parametrize('name', CLASS_CHECKS)
def test_instance_instead_of_class(checks, objects, name, capfd):
    capfd.readouterr()
    args = list(objects[name])
    args[0] = object()
    message = assert_clear_failure(checks, name, tuple(args), capfd)
    assert 'класс' in message


class RaisingModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        raise ValueError('hidden_size must be even')


@pytest.mark.parametrize('name', MODULE_CHECKS)
def test_constructor_that_raises(checks, name, capfd):
    capfd.readouterr()
    message = assert_clear_failure(checks, name, (RaisingModule,), capfd)
    assert 'ValueError' in message and 'hidden_size must be even' in message


class AlwaysEqual:
    """Objects that claim to be equal to anything: the checks must not compare with ==."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class AlwaysEqualTokenizer(StubTokenizer):
    vocab_size = cls_token_id = pad_token_id = mask_token_id = sep_token_id = property(lambda self: AlwaysEqual())

    def __call__(self, text):
        return AlwaysEqual()


class AlwaysEqualModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, *args, **kwargs):
        return AlwaysEqual()


def test_always_equal_objects_are_rejected(checks, capfd):
    capfd.readouterr()
    assert_clear_failure(checks, 'test_tokenizer', (AlwaysEqualTokenizer(),), capfd)
    for name in MODULE_CHECKS:
        assert_clear_failure(checks, name, (AlwaysEqualModule,), capfd)
    assert_clear_failure(checks, 'test_collate_fn', (lambda batch, pad: (AlwaysEqual(), AlwaysEqual()),), capfd)
    assert_clear_failure(checks, 'test_init_layer', (lambda *a, **k: AlwaysEqual(),), capfd)


def test_tokenizer_erratum_vocab_file(checks, tmp_path, capfd):
    """transformers 5.x: BertTokenizerFast(vocab_file=...) silently gives a 5-token vocabulary."""
    from transformers import BertTokenizerFast
    good = alt.make_tokenizer(tmp_path)
    vocab_path = next((tmp_path / 'tokenizer').glob('*vocab.txt'))
    broken = alt.WordpieceTokenizer.__new__(alt.WordpieceTokenizer)
    broken._tokenizer = BertTokenizerFast(vocab_file=str(vocab_path))
    capfd.readouterr()
    message = assert_clear_failure(checks, 'test_tokenizer', (broken,), capfd)
    assert 'vocab=' in message and 'vocab_file' in message, message
    checks.test_tokenizer(good)


# --- no flakiness, no side effects ------------------------------------------------------------------

STATISTICAL = ['test_collator', 'test_dataset', 'test_init_layer', 'test_bert_embeddings', 'test_attention',
               'test_feedforward', 'test_bert', 'test_classifier_head']


def test_statistical_checks_are_not_flaky(checks, objects, capfd):
    """50 caller seeds x 50 internal seeds: the correct implementation always passes."""
    failures = []
    try:
        for seed in range(50):
            checks._SEED_OFFSET = 1000 * seed + 1
            torch.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed)
            for name in STATISTICAL:
                try:
                    getattr(checks, name)(*objects[name])
                except AssertionError as e:
                    failures.append((seed, name, str(e)))
    finally:
        checks._SEED_OFFSET = 0
    out, err = capfd.readouterr()
    assert err == ''
    assert failures == []
    assert out.count('\n') == 50 * len(STATISTICAL)


def test_checks_restore_callers_random_state(checks, objects, capfd):
    torch.manual_seed(7)
    random.seed(7)
    np.random.seed(7)
    expected = (torch.rand(3), random.random(), np.random.rand())
    threads = torch.get_num_threads()
    torch.manual_seed(7)
    random.seed(7)
    np.random.seed(7)
    for name in ['test_collator', 'test_dataset', 'test_trainer', 'test_attention']:
        getattr(checks, name)(*objects[name])
    got = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(got[0], expected[0]) and got[1:] == expected[1:]
    assert torch.get_num_threads() == threads
    capfd.readouterr()


def test_checks_do_not_change_the_students_model(checks, objects, capfd):
    get_optimizer, model = objects['test_optimizer']
    before = {k: v.clone() for k, v in model.state_dict().items()}
    checks.test_optimizer(get_optimizer, model)
    checks.test_scheduler(*objects['test_scheduler'])
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    capfd.readouterr()


# --- wrong return types from otherwise correct code -------------------------------------------------

class AttentionReturnsTuple(alt.MultiHeadSelfAttention):
    def forward(self, embeddings, attention_mask):
        return super().forward(embeddings, attention_mask), None


class FeedForwardReturnsList(alt.FeedForward):
    def forward(self, embeddings):
        return super().forward(embeddings).tolist()


class BertModelReturnsLoss(alt.BertModel):
    def forward(self, *args, **kwargs):
        return super().forward(*args, **kwargs)[0]


class CollatorThreeTuple(alt.Collator):
    def __call__(self, batch):
        return super().__call__(batch)[:3]


class DatasetTwoTuple(alt.PretrainDataset):
    def __getitem__(self, idx):
        return super().__getitem__(idx)[:2]


def test_wrong_return_types(checks, objects, capfd):
    capfd.readouterr()
    message = assert_clear_failure(checks, 'test_attention', (AttentionReturnsTuple,), capfd)
    assert 'torch.Tensor' in message and 'tuple' in message, message
    message = assert_clear_failure(checks, 'test_feedforward', (FeedForwardReturnsList,), capfd)
    assert 'list' in message, message
    message = assert_clear_failure(checks, 'test_bert_model', (BertModelReturnsLoss,), capfd)
    assert '(loss, {' in message, message
    ds = objects['test_dataset'][0]
    tokenizer = objects['test_tokenizer'][0]
    message = assert_clear_failure(checks, 'test_collator', (ds, CollatorThreeTuple(tokenizer)), capfd)
    assert 'permuted' in message, message
    bad_ds = DatasetTwoTuple(alt.make_corpus(50, seed=3), tokenizer, 5, 16)
    message = assert_clear_failure(checks, 'test_dataset', (bad_ds,), capfd)
    assert 'длины 2' in message, message
