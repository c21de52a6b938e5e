"""The student checks pass on the reference solution and catch every bug of the catalogue.

- the reference (code of the notebook cells tagged `defs`, loaded by coursekit.notebook.load_defs)
  passes every check: exactly one "✓" line, nothing on stderr;
- the released stubs (`raise NotImplementedError` in the student notebook) fail every check with
  a message that says the component is not implemented;
- every entry of tests/bug_catalogue.py (a realistic student mistake, made by text patches on the
  reference) still loads, and the check named in the entry fails with a short Russian CheckError
  that starts with the component's name, printing nothing (neither stdout nor stderr).

When the notebook changes and a patch text no longer occurs, the failing test names the entry:
update its `old` text in tests/bug_catalogue.py.
"""
import pytest

from coursekit import RELEASE_NB
from coursekit.notebook import defs_source, load_defs
from tests.bug_catalogue import BUGS, build_args, load_bug, make_tokenizer
from tests.test_checks_alt import CHECK_NAMES, COMPONENT, CYRILLIC, assert_clear_failure

MIN_BUGS = 45


@pytest.fixture(scope='module')
def reference():
    return load_defs(name='reference')


@pytest.fixture(scope='module')
def tokenizer(reference, tmp_path_factory):
    return make_tokenizer(reference, tmp_path_factory.mktemp('reference_tokenizer'))


def patched_or_fail(bug, build):
    """build() applies the bug's patches; a patch text that no longer occurs names the entry to update."""
    try:
        return build()
    except ValueError as e:
        pytest.fail(f'bug {bug.id!r}: patch text no longer in the solution notebook, update the entry '
                    f'in tests/bug_catalogue.py ({e})')


# --- the catalogue itself ----------------------------------------------------------------------------

def test_catalogue_is_well_formed():
    assert len(BUGS) >= MIN_BUGS
    ids = [bug.id for bug in BUGS]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for bug in BUGS:
        assert bug.check in CHECK_NAMES, bug
        assert bug.description and CYRILLIC.search(bug.description), bug
        assert bug.patches, bug
        for old, new in bug.patches:
            assert old and old != new, bug


def test_catalogue_covers_every_check():
    assert {bug.check for bug in BUGS} == set(CHECK_NAMES)


def test_every_bug_changes_the_source():
    original = defs_source()
    for bug in BUGS:
        assert patched_or_fail(bug, lambda: defs_source(patches=bug.patches)) != original, bug.id


# --- the reference passes --------------------------------------------------------------------------

@pytest.mark.parametrize('name', CHECK_NAMES)
def test_reference_passes(checks, reference, tokenizer, name, tmp_path, capfd, recording):
    args = build_args(reference, name, tokenizer, tmp_path)
    capfd.readouterr()
    getattr(checks, name)(*args)
    out, err = capfd.readouterr()
    assert err == ''
    assert out == f'✓ {COMPONENT[name]}: все проверки пройдены\n'
    assert recording(name) == (True, '✓')  # the grader's replay of the same run agrees


# --- every bug is caught ---------------------------------------------------------------------------

@pytest.mark.parametrize('bug', BUGS, ids=[bug.id for bug in BUGS])
def test_bug_is_caught(checks, tokenizer, bug, tmp_path, capfd, recording):
    module = patched_or_fail(bug, lambda: load_bug(bug))
    args = build_args(module, bug.check, tokenizer, tmp_path)
    capfd.readouterr()
    message = assert_clear_failure(checks, bug.check, args, capfd)
    assert recording(bug.check) == (False, message)  # caught by the grader's replay too, same message


# --- the untouched release fails every check ---------------------------------------------------------

# objects that the notebook builds before calling the check: with stubs the building cell already fails
BUILT_BEFORE_CHECK = {'test_tokenizer', 'test_dataset', 'test_collator'}


@pytest.fixture(scope='module')
def release():
    return load_defs(RELEASE_NB, name='release')


@pytest.mark.parametrize('name', CHECK_NAMES)
def test_released_stub_fails_clearly(checks, release, reference, tokenizer, name, tmp_path, capfd, recording):
    if name in BUILT_BEFORE_CHECK:
        with pytest.raises(NotImplementedError):
            build_args(release, name, tokenizer, tmp_path)
        return
    if name in ('test_optimizer', 'test_scheduler'):
        model = build_args(reference, 'test_optimizer', tokenizer, tmp_path)[1]
        args = ((release.get_optimizer, model) if name == 'test_optimizer'
                else (release.Scheduler, release.get_optimizer, model))
    else:
        args = build_args(release, name, tokenizer, tmp_path)
    capfd.readouterr()
    message = assert_clear_failure(checks, name, args, capfd)
    assert 'не реализовано' in message or 'NotImplementedError' in message, message
    assert recording(name) == (False, message)


# --- hints named in the issue tracker ----------------------------------------------------------------

def test_specific_hints(checks, tokenizer, tmp_path, capfd, recording):
    """int32 tensors from the dataset and a mask without the heads axis get a hint that names the fix."""
    expected = {'ds_int32': 'torch.long', 'att_mask_no_head_axis': 'mask[:, None]'}
    for bug in BUGS:
        if bug.id in expected:
            args = build_args(load_bug(bug), bug.check, tokenizer, tmp_path)
            message = assert_clear_failure(checks, bug.check, args, capfd)
            assert expected[bug.id] in message, message


@pytest.mark.parametrize('name', ['test_mlm_head', 'test_bert_model', 'test_feedforward', 'test_bert'])
def test_tanh_gelu_is_accepted_everywhere(checks, tokenizer, name, tmp_path, capfd, recording):
    """nn.GELU(approximate='tanh') passes every check that takes an activation, at home and in the replay."""
    module = load_defs(patches=[("ACTIVATIONS = {'relu': nn.ReLU, 'gelu': nn.GELU}",
                                 "ACTIVATIONS = {'relu': nn.ReLU, 'gelu': lambda: nn.GELU(approximate='tanh')}")],
                       name='tanh_gelu')
    args = build_args(module, name, tokenizer, tmp_path)
    capfd.readouterr()
    getattr(checks, name)(*args)
    assert capfd.readouterr().out == f'✓ {COMPONENT[name]}: все проверки пройдены\n'
    assert recording(name) == (True, '✓')
