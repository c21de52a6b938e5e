"""The grader's own steps (`nbgrader autograde`, the judge's replay, `nbgrader generate_feedback`)
each run in a fresh process forked from a server that imported nbgrader, nbconvert and torch once
(multiprocessing's forkserver), not in a new interpreter that imports them again: 3.3 s for
nbgrader and 1.8 s for torch per step on this course's 2-core machine (docs/measurements.md).

A step is still a process of its own, as before: its own session (killed as a tree on timeout),
environment, working directory (the repository root, where nbgrader_config.py is), log file and
memory cap; nothing it does stays in the grader. The server runs no student code and no step:
it only imports and forks.
"""
import multiprocessing
import os
import resource
import sys
import threading

from coursekit import ROOT

PRELOAD = ["nbgrader.apps", "nbconvert.exporters", "torch", "coursekit.judge", "coursekit.preprocessors"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)
_start_lock = threading.Lock()


def start():
    """Start the server now (it imports PRELOAD: seconds) so that the first step finds it ready;
    grade_all calls this before it prepares the gradebook."""
    with _start_lock:
        from multiprocessing import forkserver
        forkserver.ensure_running()


def _mapped_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _enter(target, args, env, log, memory):
    """In the forked process: a session of its own, the output into `log`, the environment and
    working directory of a fresh `python -m ...` in the repository root, then the step."""
    os.setsid()
    if memory:  # the step's own allocations; what the server had mapped (torch: ~0.7 GB) comes on top
        limit = memory + _mapped_bytes()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(ROOT)
    os.environ.clear()
    os.environ.update(env)
    target(*args)
    sys.stdout.flush()
    sys.stderr.flush()


def spawn(target, args, env, log, memory=None):
    """Start target(*args) in a forked warm process (target: a module-level function); wait() ends it."""
    with _start_lock:
        process = _context.Process(target=_enter, args=(target, args, dict(env), str(log), memory), daemon=False)
        process.start()
    return process


def wait(process, timeout):
    """The exit code of a spawned process, or None when it ran past `timeout` seconds (it and its
    children are then killed)."""
    from coursekit.sandbox import kill_and_wait
    import psutil
    process.join(timeout)
    if process.exitcode is None:
        try:
            parent = psutil.Process(process.pid)
            kill_and_wait(parent.children(recursive=True) + [parent])
        except psutil.NoSuchProcess:
            pass
        process.join()
        return None
    return process.exitcode


def run(target, args, env, timeout, log, memory=None):
    """target(*args) in a forked warm process; its exit code, or None past `timeout` seconds."""
    return wait(spawn(target, args, env, log, memory), timeout)


def nbgrader(argv):
    """`python -m nbgrader *argv`, in the forked process (nbgrader_config.py reads sys.argv)."""
    from nbgrader.apps.nbgraderapp import NbGraderApp
    sys.argv = ["nbgrader", *argv]
    NbGraderApp.launch_instance(argv=list(argv))
