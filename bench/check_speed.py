"""Time every student check (solutions/task3_bert/tests.py) on the independent correct implementation.

    python -m bench.check_speed [--against REV]     # from the repository root (it imports tests/)

Prints the time of each check at home, the total of the checks (target: well under 10 s on 2 CPU
cores) and the time of the whole process (imports and building the small tokenizer included); then,
as at grading, the same check with its run recorded (TASK3_RECORD_DIR set) and the grader's replay
of that record (tests.judge), all in this one process.
The first check that builds a torch optimizer pays a one-off import of torch._dynamo (torch does it
inside torch.optim.Optimizer); in a student's notebook that import has already happened in the
student's own cell, so the line "без разового импорта" is the figure a student sees.
--against REV: also times, in this process and interleaved round by round (best of --rounds), the
home checks of tests.py as it was at git revision REV (e.g. 54d47f2, before record/replay).
"""
import argparse
import importlib.util
import os
import subprocess
import tempfile
import time

PROCESS_START = time.perf_counter()

from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

import torch  # noqa: E402

from tests.conftest import load_student_checks  # noqa: E402
from tests import alt_solution as alt  # noqa: E402


def compare(checks, objects, rev, rounds):
    """Best-of-rounds home time of each check: this tests.py vs the one at git revision rev."""
    old_path = Path(tempfile.mkdtemp(prefix='check_speed_old_')) / 'tests.py'
    old_path.write_bytes(subprocess.run(['git', 'show', f'{rev}:solutions/task3_bert/tests.py'], cwd=ROOT,
                                        check=True, capture_output=True).stdout)
    spec = importlib.util.spec_from_file_location('old_checks', old_path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    names = [name for name in objects if hasattr(old, name)]
    best = {'old': {}, 'new': {}}
    for _ in range(rounds):
        for label, module in (('old', old), ('new', checks)):
            for name in names:
                t = time.perf_counter()
                getattr(module, name)(*objects[name])
                best[label][name] = min(best[label].get(name, float('inf')), time.perf_counter() - t)
    print()
    print(f'{"проверка":<26}{rev:>10}{"сейчас":>10}{"доля":>8}   (дома, лучшее из {rounds})')
    for name in names:
        print(f'{name:<26}{best["old"][name]:>10.3f}{best["new"][name]:>10.3f}'
              f'{best["new"][name] / best["old"][name]:>8.2f}')
    total_old, total_new = sum(best['old'].values()), sum(best['new'].values())
    print(f'{"итого":<26}{total_old:>10.3f}{total_new:>10.3f}{total_new / total_old:>8.2f}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--against', metavar='REV', help='git revision whose tests.py to time as well')
    parser.add_argument('--rounds', type=int, default=5)
    args = parser.parse_args()
    t = time.perf_counter()
    checks = load_student_checks()
    import_time = time.perf_counter() - t
    t = time.perf_counter()
    objects = alt.make_objects(tempfile.mkdtemp(prefix='check_speed_'))
    setup_time = time.perf_counter() - t

    t = time.perf_counter()
    torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)  # the one-off torch._dynamo import
    dynamo_time = time.perf_counter() - t

    times = {}
    for name in objects:  # every component check; MIN_LEN and the F1 grade read no model
        t = time.perf_counter()
        getattr(checks, name)(*objects[name])
        times[name] = time.perf_counter() - t

    record_dir = tempfile.mkdtemp(prefix='check_speed_records_')
    recorded, judged = {}, {}
    os.environ[checks._RECORD_DIR_ENV], os.environ[checks._RECORD_SEED_ENV] = record_dir, '1'
    for name in objects:
        t = time.perf_counter()
        getattr(checks, name)(*objects[name])
        recorded[name] = time.perf_counter() - t
        t = time.perf_counter()
        passed, message = checks.judge(name, os.path.join(record_dir, f'{name}.npz'), 1)
        judged[name] = time.perf_counter() - t
        assert passed, message
    del os.environ[checks._RECORD_DIR_ENV]

    print()
    print(f'{"проверка":<26}{"дома, с":>10}{"запись, с":>11}{"повтор, с":>11}{"запись, КБ":>12}')
    for name, seconds in times.items():
        size = os.path.getsize(os.path.join(record_dir, f'{name}.npz')) / 1024
        print(f'{name:<26}{seconds:>10.3f}{recorded[name]:>11.3f}{judged[name]:>11.3f}{size:>12.0f}')
    print(f'{"итого при автопроверке":<26}{"":>10}{sum(recorded.values()):>11.3f}{sum(judged.values()):>11.3f}')
    total = sum(times.values())
    print(f'{"итого (все проверки)":<26}{total:>10.3f}   цель: < 10 с; потоков torch: {torch.get_num_threads()}')
    print(f'{"разовый импорт torch._dynamo":<26}{dynamo_time:>10.3f}   (с ним: {total + dynamo_time:.3f} с)')
    print(f'{"import tests.py":<26}{import_time:>10.3f}')
    print(f'{"подготовка объектов":<26}{setup_time:>10.3f}   (обучение маленького токенизатора)')
    print(f'{"весь процесс":<26}{time.perf_counter() - PROCESS_START:>10.3f}')
    if args.against:
        compare(checks, objects, args.against, args.rounds)


if __name__ == '__main__':
    main()
