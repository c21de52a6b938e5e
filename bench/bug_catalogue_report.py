"""Каталог ошибок (tests/bug_catalogue.py): какая проверка поймала какую ошибку.

    python -m bench.bug_catalogue_report     # из корня репозитория (импортирует tests/)

Для каждой ошибки: id, проверка, поймана ли (да/нет), согласен ли с домашней проверкой
проверяющий (воспроизведение записи, как при автопроверке) и первая строка сообщения; затем
правильные идиомы (tests/idioms.py): пройдены ли дома и у проверяющего. В конце — доля пойманных
(«caught N/N (100%)»), доля согласий дома и у проверяющего («agree N/N») и общее время. Заплатки накладываются на код
ячеек `defs` ноутбука-решения (coursekit.notebook.load_defs); запись, чей текст заплатки больше
не встречается в решении, печатается как «нет заплатки» и считается непойманной.
"""
import os
import sys
import tempfile
import time

PROCESS_START = time.perf_counter()

from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault('OMP_NUM_THREADS', '1')

from coursekit.notebook import load_defs  # noqa: E402
from tests.bug_catalogue import BUGS, build_args, load_bug, make_tokenizer  # noqa: E402
from tests.conftest import RECORD_SEED, load_student_checks  # noqa: E402
from tests.idioms import IDIOMS  # noqa: E402


def live_and_replay(checks, check, args, probe):
    """(live verdict, the grader's replay verdict), each (passed, message), and seconds of the live run."""
    import contextlib
    import io
    os.environ[checks._RECORD_DIR_ENV], os.environ[checks._RECORD_SEED_ENV] = str(probe), str(RECORD_SEED)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            getattr(checks, check)(*args)
        live = (True, '✓')
    except AssertionError as e:
        live = (False, str(e))
    finally:
        del os.environ[checks._RECORD_DIR_ENV], os.environ[checks._RECORD_SEED_ENV]
    seconds = time.perf_counter() - start
    return live, checks.judge(check, str(probe / f'{check}.npz'), RECORD_SEED), seconds


def _first_line(message, width=90):
    line = message.splitlines()[0] if message else ''
    return line if len(line) <= width else line[:width - 1] + '…'


def main():
    checks = load_student_checks()
    workdir = Path(tempfile.mkdtemp(prefix='bug_catalogue_'))
    setup_start = time.perf_counter()
    reference = load_defs(name='reference')
    tokenizer = make_tokenizer(reference, workdir / 'reference')
    setup_time = time.perf_counter() - setup_start

    rows, caught_count, agree = [], 0, 0
    bugs_start = time.perf_counter()
    for i, bug in enumerate(BUGS):
        try:
            args = build_args(load_bug(bug), bug.check, tokenizer, workdir / f'bug{i}')
            live, replay, seconds = live_and_replay(checks, bug.check, args, workdir / f'probe{i}')
        except ValueError as e:  # текст заплатки не найден в решении
            live, replay, seconds = (True, f'нет заплатки: {e}'), (True, ''), 0.0
        caught_count += not live[0]
        agree += live == replay
        rows.append((bug.id, bug.check, 'НЕТ' if live[0] else 'да', 'да' if live == replay else 'НЕТ', seconds,
                     '(проверка пройдена)' if live[0] else _first_line(live[1])))
    passed_idioms = 0
    for i, idiom in enumerate(IDIOMS):
        args = build_args(load_defs(patches=idiom.patches, name=f'idiom_{idiom.id}'), idiom.check, tokenizer,
                          workdir / f'idiom{i}')
        live, replay, seconds = live_and_replay(checks, idiom.check, args, workdir / f'iprobe{i}')
        passed_idioms += live[0] and replay[0]
        agree += live == replay
        rows.append((f'идиома {idiom.id}', idiom.check, 'да' if live[0] else 'НЕТ (ложная тревога)',
                     'да' if live == replay else 'НЕТ', seconds, idiom.description))
    bugs_time = time.perf_counter() - bugs_start

    id_w = max(len(r[0]) for r in rows)
    check_w = max(len(r[1]) for r in rows)
    print(f'{"ошибка / идиома":<{id_w}}  {"проверка":<{check_w}}  {"поймана/пройдена":<16}  {"согласие":<8}  '
          f'{"с":>5}  первая строка сообщения')
    for bug_id, check, caught, same, seconds, message in rows:
        print(f'{bug_id:<{id_w}}  {check:<{check_w}}  {caught:<16}  {same:<8}  {seconds:>5.2f}  {message}')
    total = len(BUGS)
    print()
    print(f'caught {caught_count}/{total} ({100 * caught_count / total:.0f}%)')
    print(f'correct idioms passed at home and by the grader: {passed_idioms}/{len(IDIOMS)}')
    print(f'agree (home verdict == grader\'s replay, same message): {agree}/{len(rows)} '
          f'({100 * agree / len(rows):.0f}%)')
    checks_covered = len({bug.check for bug in BUGS})
    print(f'проверок с ошибками в каталоге: {checks_covered}')
    print(f'подготовка (импорт решения, токенизатор): {setup_time:.2f} с; ошибки: {bugs_time:.2f} с; '
          f'весь процесс: {time.perf_counter() - PROCESS_START:.2f} с')
    return 0 if caught_count == total and agree == len(rows) and passed_idioms == len(IDIOMS) else 1


if __name__ == '__main__':
    sys.exit(main())
