"""Каталог ошибок (tests/bug_catalogue.py): какая проверка поймала какую ошибку.

    python -m bench.bug_catalogue_report     # из корня репозитория (импортирует tests/)

Для каждой ошибки: id, проверка, поймана ли (да/нет) и первая строка сообщения проверки;
в конце — доля пойманных («caught N/N (100%)») и общее время. Заплатки накладываются на код
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
from tests.bug_catalogue import BUGS, make_tokenizer, run_bug  # noqa: E402
from tests.conftest import load_student_checks  # noqa: E402


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

    rows, caught_count = [], 0
    bugs_start = time.perf_counter()
    for i, bug in enumerate(BUGS):
        try:
            caught, message, seconds = run_bug(bug, checks, tokenizer, workdir / f'bug{i}')
        except ValueError as e:  # текст заплатки не найден в решении
            caught, message, seconds = False, f'нет заплатки: {e}', 0.0
        caught_count += caught
        rows.append((bug.id, bug.check, 'да' if caught else 'НЕТ', seconds,
                     _first_line(message) if message else '(проверка пройдена)'))
    bugs_time = time.perf_counter() - bugs_start

    id_w = max(len(r[0]) for r in rows)
    check_w = max(len(r[1]) for r in rows)
    print(f'{"ошибка":<{id_w}}  {"проверка":<{check_w}}  {"поймана":<7}  {"с":>5}  первая строка сообщения')
    for bug_id, check, caught, seconds, message in rows:
        print(f'{bug_id:<{id_w}}  {check:<{check_w}}  {caught:<7}  {seconds:>5.2f}  {message}')
    total = len(rows)
    print()
    print(f'caught {caught_count}/{total} ({100 * caught_count / total:.0f}%)')
    checks_covered = len({bug.check for bug in BUGS})
    print(f'проверок с ошибками в каталоге: {checks_covered}')
    print(f'подготовка (импорт решения, токенизатор): {setup_time:.2f} с; ошибки: {bugs_time:.2f} с; '
          f'весь процесс: {time.perf_counter() - PROCESS_START:.2f} с')
    return 0 if caught_count == total else 1


if __name__ == '__main__':
    sys.exit(main())
