"""The grader's replay of check records (tests.judge, coursekit.judge) holds against forgery.

A record is attacker-controlled data: the kernel that writes it runs the student's code. So:
a pass needs outputs that match the references the judge computes itself (tampering with one
number fails), the seed and the check are the grader's, the file is parsed as data only (no
pickle, no imports outside torch, size caps), and a missing or broken file is a failed check with
a reason, never a crash of the grader.
"""
import json
import time
import zipfile

import numpy as np
import pytest

from coursekit import SOLUTION_NB
from coursekit import judge as cj
from coursekit.demo import fill as demo_fill
from coursekit import notebook_cells as nc
from coursekit.notebook import load_defs
from tests.conftest import RECORD_SEED


@pytest.fixture(scope='module')
def reference():
    return load_defs(name='reference_judge')


def record(checks, name, args, record_dir, monkeypatch, seed=RECORD_SEED):
    monkeypatch.setenv(checks._RECORD_DIR_ENV, str(record_dir))
    monkeypatch.setenv(checks._RECORD_SEED_ENV, str(seed))
    try:
        getattr(checks, name)(*args)
    except AssertionError:
        pass
    monkeypatch.delenv(checks._RECORD_DIR_ENV)
    return record_dir / f'{name}.npz'


def read(path):
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz['record'].tobytes().decode())
        arrays = {k: npz[k] for k in npz.files if k != 'record'}
    return header, arrays


def write(path, header, arrays):
    write_text(path, json.dumps(header), arrays)


def write_text(path, text, arrays):
    with open(path, 'wb') as f:
        np.savez(f, record=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)


@pytest.fixture
def attention(checks, reference, tmp_path, monkeypatch, capsys):
    path = record(checks, 'test_attention', (reference.MultiHeadSelfAttention,), tmp_path, monkeypatch)
    capsys.readouterr()
    assert checks.judge('test_attention', str(path), RECORD_SEED) == (True, '✓')
    return path


def first_forward(header):
    return next(c for c in header['calls'] if c['what'].startswith('MultiHeadSelfAttention.forward'))


def test_one_changed_output_number_fails(checks, attention, tmp_path):
    header, arrays = read(attention)
    value = first_forward(header)['result']['value']
    if 'key' in value:
        arrays[value['key']] = arrays[value['key']].copy()
        arrays[value['key']].flat[0] += 1e-3
    else:
        value['data'][0] += 1e-3
    write(attention, header, arrays)
    ok, message = checks.judge('test_attention', str(attention), RECORD_SEED)
    assert not ok and 'не совпадает с эталоном' in message, message


def test_weights_changed_in_the_record_fail(checks, attention):
    """Forging easy outputs by zeroing the weights after a forward call is caught: forward must not
    change the module's weights, at home as at grading."""
    header, arrays = read(attention)
    call = first_forward(header)
    module = next(c['result'] for c in header['calls'] if isinstance(c['result'], dict) and 'module' in c['result'])
    while not module['params']:
        module = module['children'][0][1]
    param = module['params'][0][1]
    tensor_ref, shape = param['tensor'], param['value']['shape']
    call['state'].append({'update': tensor_ref, 'tensor': dict(
        dtype='float32', param=True, rg=True,
        value=dict(dtype='<f4', shape=shape, key='zeros'))})
    arrays['zeros'] = np.zeros(shape, dtype=np.float32)
    write(attention, header, arrays)
    ok, message = checks.judge('test_attention', str(attention), RECORD_SEED)
    assert not ok and 'forward изменил веса модуля' in message, message


def test_other_seed_or_other_check_is_refused(checks, attention):
    ok, message = checks.judge('test_attention', str(attention), RECORD_SEED + 1)
    assert not ok and 'seed' in message, message
    ok, message = checks.judge('test_feedforward', str(attention), RECORD_SEED)
    assert not ok and 'другой проверкой' in message, message


def test_a_failed_run_edited_to_pass_fails(checks, reference, tmp_path, monkeypatch):
    release = load_defs(SOLUTION_NB.parent.parent.parent / 'assignments' / 'task3_bert' / 'task3_bert.ipynb',
                        name='release_judge')
    path = record(checks, 'test_attention', (release.MultiHeadSelfAttention,), tmp_path, monkeypatch)
    header, arrays = read(path)
    assert header['end']['ok'] is False
    header['end'] = dict(ok=True, message='')
    for call in header['calls']:
        call.pop('error', None)
    write(path, header, arrays)
    ok, message = checks.judge('test_attention', str(path), RECORD_SEED)
    assert not ok, message


def test_truncated_record_fails(checks, attention):
    header, arrays = read(attention)
    header['calls'] = header['calls'][:3]
    write(attention, header, arrays)
    ok, message = checks.judge('test_attention', str(attention), RECORD_SEED)
    assert not ok and 'короче' in message, message


@pytest.mark.parametrize('change', ['os_class', 'builtins_class', 'unknown_tag', 'bad_dtype', 'deep'])
def test_hostile_structures_are_refused(checks, attention, change):
    header, arrays = read(attention)
    module = next(c['result'] for c in header['calls'] if isinstance(c['result'], dict) and 'module' in c['result'])
    if change == 'os_class':
        module['base'] = 'os:system'
    elif change == 'builtins_class':
        module['base'] = 'builtins:eval'
    elif change == 'unknown_tag':
        first_forward(header)['result'] = {'pickle': 'cos\nsystem\n'}
    elif change == 'bad_dtype':
        first_forward(header)['result']['value']['dtype'] = '|O'
    else:
        first_forward(header)['result'] = 'DEEP'
    write(attention, header, arrays)
    if change == 'deep':  # nesting deeper than any JSON parser's recursion limit
        header, arrays = read(attention)
        text = json.dumps(header).replace('"DEEP"', '{"list": [' * 5000 + '1' + ']}' * 5000)
        write_text(attention, text, arrays)
    ok, message = checks.judge('test_attention', str(attention), RECORD_SEED)
    assert not ok, message
    assert 'запись' in message or 'не совпадает' in message, message


def test_hostile_files_are_refused(checks, attention, tmp_path):
    pickled = tmp_path / 'pickled.npz'
    np.savez(pickled, record=np.array([{'a': 1}], dtype=object))
    garbage = tmp_path / 'garbage.npz'
    garbage.write_bytes(b'\x00\xff' * 1000)
    link = tmp_path / 'link.npz'
    link.symlink_to(attention)
    bomb = tmp_path / 'bomb.npz'  # 300 MB of zeros deflated to a few hundred KB
    with zipfile.ZipFile(bomb, 'w', compression=zipfile.ZIP_DEFLATED) as z:
        with z.open('record.npy', 'w', force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(300):
                member.write(chunk)
    for path in (pickled, garbage, link, bomb, tmp_path / 'missing.npz'):
        ok, message = checks.judge('test_attention', str(path), RECORD_SEED)
        assert not ok and message.startswith('MultiHeadSelfAttention'), (path, message)


def test_judge_subprocess_reports_every_check(checks, attention, tmp_path):
    verdicts = cj.judge_submission(attention.parent, RECORD_SEED, {'test_attention': 'test_attention',
                                                                  'test_feedforward': 'test_feedforward'})
    assert verdicts['test_attention'] == (True, '✓')
    ok, message = verdicts['test_feedforward']
    assert not ok and 'не выполнялась' in message, message


def test_every_autograded_code_cell_is_a_check_or_the_f1_cell():
    src = nc.read(SOLUTION_NB)
    cells = cj.check_cells(src)
    auto = {c['grade_id'] for c in nc.grade_cells(src) if c['auto']}
    assert set(cells) | {'test_f1'} == auto
    assert all(name.startswith('test_') for name in cells.values())


def test_suspicious_code_is_flagged_and_the_solution_is_not():
    src = nc.read(SOLUTION_NB)
    assert cj.suspicious_code(src, src) == []
    release = nc.read(SOLUTION_NB.parent.parent.parent / 'assignments' / 'task3_bert' / 'task3_bert.ipynb')
    assert cj.suspicious_code(demo_fill(release, src), src) == []
    src.cells[9].metadata['nbgrader'] = dict(src.cells[9].metadata['nbgrader'], locked=False, solution=True)
    for source, expected in [
        ("get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])", 'get_ipython'),
        ("import tests\ntests.test_attention = lambda *a: print('✓')", 'присваивание tests.test_attention'),
        ("torch.allclose = lambda *a, **k: True", 'присваивание torch.allclose'),
        ("import importlib\nimportlib.reload = lambda m, *a, **k: m", 'import importlib'),
        ("import sys\nsys.modules['tests'] = object()", 'sys.modules'),
        ("import os\nos.kill(1, 9)", 'os.kill'),
        ("!cat /etc/passwd", 'команда оболочки'),
        ("import os\nTRAIN = os.environ.get('NBGRADER_EXECUTION') is None", 'переменные окружения проверки'),
        ("x = F.scaled_dot_product_attention(q, k, v)", 'готовый блок scaled_dot_product_attention'),
        ("from torch.nn.functional import multi_head_attention_forward", 'готовый блок multi_head_attention_forward'),
        ("att = nn.MultiheadAttention(8, 2)", 'готовый блок MultiheadAttention'),
        ("from transformers import BertModel", 'готовый блок BertModel'),
        ("layer = transformers.models.bert.modeling_bert.BertLayer(cfg)", 'готовый блок BertLayer'),
        ("# " + "x" * 300_000, 'не разобрана'),
    ]:
        src.cells[9].source = source
        found = cj.suspicious_code(src, nc.read(SOLUTION_NB))
        assert any(expected in reason for reason in found), (source, found)


def test_claimed_passes_reads_the_notebook_outputs():
    nb = nc.read(SOLUTION_NB)
    cells = cj.check_cells(nb)
    gid = 'test_attention'
    cell = next(c for c in nb.cells if nc.nbg(c).get('grade_id') == gid)
    cell.outputs = [dict(output_type='stream', name='stdout', text='✓ MultiHeadSelfAttention: все проверки пройдены\n')]
    assert cj.claimed_passes(nb, cells)[gid] is True
    cell.outputs.append(dict(output_type='error', ename='CheckError', evalue='x', traceback=[]))
    assert cj.claimed_passes(nb, cells)[gid] is False


def test_record_has_no_pickle(attention):
    with zipfile.ZipFile(attention) as z:
        for name in z.namelist():
            assert b"'descr': '|O'" not in z.read(name)[:200], name


def test_points_follow_the_check_cell_not_another_call(checks, reference, tmp_path, monkeypatch):
    """The grader takes the check cell's record out of the kernel's folder right after that cell
    (coursekit.outbox.take_records, called by SafeExecute): a later cell that rewinds IPython's
    counter and calls the check with a fixed component cannot replace it, and a record made in any
    other cell is deleted and reported."""
    from coursekit import outbox
    release = load_defs(SOLUTION_NB.parent.parent.parent / 'assignments' / 'task3_bert' / 'task3_bert.ipynb',
                        name='release_judge_cells')
    record_dir, out = tmp_path / 'kernel_records', tmp_path / 'records'
    out.mkdir()
    # a cell before the check cell plants a record under the check cell's future name
    record(checks, 'test_attention', (reference.MultiHeadSelfAttention,), record_dir, monkeypatch).rename(
        record_dir / 'test_attention@6.npz')
    notes = outbox.take_records(record_dir, out, 'helper_cell', None, 4, cj.RECORD_LIMIT)
    assert not list(record_dir.iterdir()) and not list(out.iterdir()) and 'не в своей ячейке' in notes[0]
    # the check cell (stored as In[5], IPython's counter 6 inside) runs the student's broken class
    record(checks, 'test_attention', (release.MultiHeadSelfAttention,), record_dir, monkeypatch).rename(
        record_dir / 'test_attention@6.npz')
    assert outbox.take_records(record_dir, out, 'test_attention', 'test_attention', 5, cj.RECORD_LIMIT) == []
    # a later cell rewinds the counter and calls the check with a correct class
    record(checks, 'test_attention', (reference.MultiHeadSelfAttention,), record_dir, monkeypatch).rename(
        record_dir / 'test_attention@6.npz')
    notes = outbox.take_records(record_dir, out, 'later_cell', None, 9, cj.RECORD_LIMIT)
    assert notes and not list(record_dir.iterdir())
    verdicts = cj.judge_dir(out, RECORD_SEED, {'test_attention': 'test_attention', 'test_bert': 'test_bert'})
    assert not verdicts['test_attention'][0] and 'не реализовано' in verdicts['test_attention'][1]
    assert not verdicts['test_bert'][0] and 'не выполнялась' in verdicts['test_bert'][1]


def test_records_leave_the_kernel_folder_only_as_regular_capped_files(tmp_path):
    from coursekit import outbox
    record_dir, out = tmp_path / 'kernel_records', tmp_path / 'records'
    record_dir.mkdir()
    out.mkdir()
    secret = tmp_path / 'answer_key.csv'
    secret.write_text('secret')
    (record_dir / 'test_bert@3.npz').symlink_to(secret)
    assert 'не принята' in outbox.take_records(record_dir, out, 'test_bert', 'test_bert', 2, 1 << 20)[0]
    (record_dir / 'test_bert@3.npz').write_bytes(b'0' * 2048)
    assert 'не принята' in outbox.take_records(record_dir, out, 'test_bert', 'test_bert', 2, 1024)[0]
    assert not list(out.iterdir()) and not list(record_dir.iterdir())
    linked = tmp_path / 'linked'
    linked.symlink_to(record_dir)  # the record_dir folder itself replaced by a link: nothing is read
    (record_dir / 'test_bert@3.npz').write_bytes(b'record')
    assert outbox.take_records(linked, out, 'test_bert', 'test_bert', 2, 1 << 20) == []
    assert not list(out.iterdir()) and (record_dir / 'test_bert@3.npz').exists()
    assert outbox.take_records(record_dir, out, 'test_bert', 'test_bert', 2, 1 << 20) == []
    assert (out / 'test_bert.npz').read_bytes() == b'record'


def test_replay_started_before_the_records_gives_the_same_verdicts(checks, attention, tmp_path):
    """judge.Replay (started before the kernel) takes a record saved while it waits, and after
    finish() the ones never saved fail: the same verdicts as judging the folder afterwards."""
    records = tmp_path / "records"
    records.mkdir()
    names = {'test_attention': 'test_attention', 'test_feedforward': 'test_feedforward'}
    replay = cj.Replay(records, RECORD_SEED, names, tmp_path, time.time() + 120)
    time.sleep(1)
    (records / 'test_attention.npz').write_bytes(attention.read_bytes())
    time.sleep(1)
    verdicts = replay.finish(timeout=120)
    assert verdicts == cj.judge_submission(records, RECORD_SEED, names)
    assert verdicts['test_attention'] == (True, '✓') and not verdicts['test_feedforward'][0]
