import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import importlib.util

import pytest

_CHECKS_PATH = pathlib.Path(__file__).resolve().parent.parent / 'solutions' / 'task3_bert' / 'tests.py'


def load_student_checks(name='student_checks'):
    """The student-facing check module (solutions/task3_bert/tests.py), loaded by path."""
    spec = importlib.util.spec_from_file_location(name, _CHECKS_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def checks():
    return load_student_checks()
