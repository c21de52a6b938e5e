"""Live and replay agree: a correct idiom a student really writes passes its check at home and in
the grader's replay of the record, with the same verdict (tests/idioms.py). The reference, the
alternative solution, the stubs and every bug of the catalogue are held to the same rule in
tests/test_checks_solution.py and tests/test_checks_alt.py (`recording(...)` after each live run)."""
import pytest

from tests.bug_catalogue import build_args, make_tokenizer
from tests.idioms import IDIOMS
from tests.test_checks_alt import COMPONENT
from coursekit.notebook import load_defs


@pytest.fixture(scope='module')
def tokenizer(tmp_path_factory):
    return make_tokenizer(load_defs(name='reference_idioms'), tmp_path_factory.mktemp('idiom_tokenizer'))


@pytest.mark.parametrize('idiom', IDIOMS, ids=[i.id for i in IDIOMS])
def test_correct_idiom_passes_live_and_in_the_replay(checks, tokenizer, idiom, tmp_path, capfd, recording):
    module = load_defs(patches=idiom.patches, name=f'idiom_{idiom.id}')
    args = build_args(module, idiom.check, tokenizer, tmp_path)
    capfd.readouterr()
    try:
        getattr(checks, idiom.check)(*args)
        live = (True, '✓')
    except AssertionError as exc:
        live = (False, str(exc))
    out, err = capfd.readouterr()
    assert err == ''
    assert live == (True, '✓'), f'{idiom.id} ({idiom.description}): дома {live[1]}'
    assert out == f'✓ {COMPONENT[idiom.check]}: все проверки пройдены\n'
    assert recording(idiom.check) == live, f'{idiom.id} ({idiom.description}): проверяющий не согласен'
