"""Real-browser tests (`make test-browser`): Jupyter servers on free localhost ports, Debian's
Chromium driven by Playwright (system browser, nothing downloaded). Screenshots: build/browser/.

Debug: see CONTRIBUTING.md (TASK3_BROWSER_HEADED=1 with a display shows the window; a server that
does not start puts its log into the failure).
"""
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from coursekit import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "build" / "browser"
# Debian Chromium as root in a closed network (see CONTRIBUTING.md)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# JupyterLab user settings for a quiet, predictable page: no news/update toasts
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False}}


def free_port():
    """A port nobody listens on now (the OS picks it); the server is then started with
    port_retries=0, so if someone takes it meanwhile the start fails instead of moving elsewhere."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m jupyterlab` in `cwd`, on 127.0.0.1:`port` with a fresh token and its own
    config/runtime/settings folders under `home`."""

    def __init__(self, cwd, home, port=None, timeout=120):
        self.port = port or free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        home = Path(home)
        settings = home / "lab-settings"
        for name, value in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        self.log_path = home / f"jupyter-{self.port}.log"
        # the student's own environment: nothing of the grader's (NBGRADER_EXECUTION, TASK3_DATA, ...)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("NBGRADER_", "TASK3_"))}
        full_env = dict(clean, JUPYTER_CONFIG_DIR=str(home / "config"),
                        JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
                        JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "ws"),
                        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={cwd}"]
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout):
        """Ready when OUR process listens on the port and answers /api/status with OUR token; if it
        exits (port taken) or never answers, it is stopped and the start fails: whatever else answers
        on that port is never used."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if not self._listening():
                time.sleep(0.3)
                continue
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200 and "started" in json.load(r):
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.3)
        left = self.stop()
        raise RuntimeError(f"jupyter on port {self.port} did not start (rc={self.proc.returncode}, "
                           f"processes left: {left}):\n"
                           + self.log()[-3000:])

    def _listening(self):
        try:
            proc = psutil.Process(self.proc.pid)
            conns = proc.net_connections("inet") if hasattr(proc, "net_connections") else proc.connections("inet")
        except psutil.Error:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in conns)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        """SIGTERM (the server shuts its kernels down), then kill whatever of its tree is left.
        Returns the processes still alive afterwards (should be none)."""
        try:
            tree = [psutil.Process(self.proc.pid)] + psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        for p in tree:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait()
        _, alive = psutil.wait_procs(tree, timeout=10)
        return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail(f"нет {CHROMIUM}: make test-browser ставит его сам (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                               headless=not os.environ.get("TASK3_BROWSER_HEADED"))
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots():
    """shot(page_or_locator, name): PNG under build/browser/ (see docs/maintainers.md)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(target, name):
        path = SHOTS / f"{name}.png"
        target.screenshot(path=str(path))
        return path
    return shot


@contextlib.contextmanager
def running(cwd, home, **kw):
    """A Server for a `with` block; afterwards none of its processes may be left (checked)."""
    server = Server(cwd, home, **kw)
    try:
        yield server
    finally:
        left = server.stop()
    assert not left, f"процессы сервера не остановились: {left}"


def copy_course(dest):
    """A throw-away course root: the repository's files without its git data, environment,
    outputs and big data (coursekit.ROOT there is `dest`, so grading writes only there)."""
    big = ["task3_data.csv"]
    shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv",
        "runs", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", *big))
    return Path(dest)


def smoke_data():
    path = ROOT / "data" / "task3_data_smoke.csv"
    if not path.exists():
        pytest.fail("нет data/task3_data_smoke.csv: python data/build_dataset.py --profile smoke (make test-browser делает это сам)")
    return path
