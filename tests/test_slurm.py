"""cluster/slurm/ on a running Slurm (`make test-slurm`; skipped in `make test`).

A session fixture starts a one-node cluster in a temporary folder (SCALE_DESIGN.md's recipe: a
private munged on its own socket and key, slurmctld and slurmd as root on free localhost ports,
config, state, pid files and logs in the folder) and stops every daemon it started by the pid in
its pid file, munged last, whatever the tests did. On it:

- the tiny class of test_shards (six submissions, a victim and an attacker among them) graded by
  cluster/slurm/submit_grading.sh 3 (a 3-task array and a merge job after it) equals a single-machine
  grade_all of the same class: grades.csv rows, statuses, every gradebook score;
- one array task cancelled before it runs: the merge job is cancelled with it, merge.sbatch names
  the gap, and the sbatch command it prints closes it;
- cluster/slurm/train.sbatch with 2 tasks on the node (two torchrun agents, c10d rendezvous, gloo)
  matches a one-process run of the tiny model step by step, as tests/test_train.py does.
"""
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from conftest import scalars
from coursekit import ROOT, shards
from coursekit.grading import csv_safe
from coursekit.train import TINY
from test_shards import fingerprint, grade_plain, options, printed_commands, rows, scores, tiny_class

pytestmark = pytest.mark.skipif(os.environ.get("TASK3_SLURM") != "1",
                                reason="нужен Slurm: make test-slurm (ставит slurm-wlm и munge, поднимает кластер)")
SLURM = ROOT / "cluster" / "slurm"
DAEMONS = ("slurmd", "slurmctld", "munged")  # stopped in this order


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(pid_file, name):
    """Stop the daemon whose pid is in pid_file, if that pid is still that daemon."""
    try:
        pid = int(Path(pid_file).read_text().split()[0])
        proc = psutil.Process(pid)
        if proc.name() != name:
            return
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    except psutil.TimeoutExpired:
        proc.kill()
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        pass


def sh(args, env, timeout=120, check=True):
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="session")
def slurm():
    tmp = Path(tempfile.mkdtemp(prefix="task3_slurm_"))
    tmp.chmod(0o755)  # munged wants every folder above its socket searchable
    run = tmp / "run"
    for d in (run, tmp / "state", tmp / "spool"):
        d.mkdir()
    key = tmp / "munge.key"
    key.write_bytes(os.urandom(128))
    key.chmod(0o600)
    host = socket.gethostname().split(".")[0]
    memory = psutil.virtual_memory().total >> 21  # MiB, half of the machine
    conf = tmp / "slurm.conf"
    conf.write_text(f"""ClusterName=task3test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={run / 'munge.sock'}
CredType=cred/munge
StateSaveLocation={tmp / 'state'}
SlurmdSpoolDir={tmp / 'spool'}
SlurmctldPidFile={run / 'slurmctld.pid'}
SlurmdPidFile={run / 'slurmd.pid'}
SlurmctldLogFile={tmp / 'slurmctld.log'}
SlurmdLogFile={tmp / 'slurmd.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
MinJobAge=3600
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={memory} State=UNKNOWN
PartitionName=grading Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    env = dict(os.environ, SLURM_CONF=str(conf), OMP_NUM_THREADS="1")
    for key_ in [k for k in env if k.startswith(("SBATCH_", "SLURM_")) and k != "SLURM_CONF"]:
        del env[key_]
    started = time.perf_counter()
    try:
        sh(["munged", f"--socket={run / 'munge.sock'}", f"--key-file={key}", f"--pid-file={run / 'munged.pid'}",
            f"--log-file={tmp / 'munged.log'}", f"--seed-file={tmp / 'munged.seed'}"], env)
        sh(["slurmctld", "-f", str(conf)], env)
        sh(["slurmd", "-f", str(conf)], env)
        deadline = time.time() + 90
        while "idle" not in sh(["sinfo", "-h", "-o", "%T"], env, check=False).stdout:
            assert time.time() < deadline, f"узел не стал idle: {(tmp / 'slurmd.log').read_text()[-2000:]}"
            time.sleep(1)
        yield dict(env=env, tmp=tmp, start_seconds=time.perf_counter() - started)
    finally:
        subprocess.run(["scancel", "--user", "root"], env=env, capture_output=True, timeout=60)
        for name in DAEMONS:
            stop(run / f"{name}.pid", name)
        shutil.rmtree(tmp, ignore_errors=True)


def wait(slurm, jobs, timeout=900):
    """Wait until none of the jobs is pending or running; returns {job id or id_task: state}."""
    deadline = time.time() + timeout
    while sh(["squeue", "-h", "-j", ",".join(jobs)], slurm["env"], check=False).stdout.strip():
        assert time.time() < deadline, sh(["squeue"], slurm["env"]).stdout
        time.sleep(2)
    states = {}
    for job in jobs:
        out = sh(["scontrol", "show", "job", job], slurm["env"], check=False).stdout
        for block in out.split("\n\n"):
            m = re.search(r"JobId=(\d+)(?: ArrayJobId=(\d+) ArrayTaskId=(\d+))?", block)
            state = re.search(r"JobState=(\w+)", block)
            if m and state:
                states[f"{m[2]}_{m[3]}" if m[2] else m[1]] = state[1]
    return states


def submit(slurm, made, shards_dir, *sbatch_options):
    env = dict(slurm["env"], COURSE=str(made["tmp"]), SHARDS_DIR=str(shards_dir),
               GRADING_ARGS=" ".join(options(made)))
    proc = sh([str(SLURM / "submit_grading.sh"), "3", "-c", "1", *sbatch_options], env)
    array, merge = re.search(r"array=(\d+) merge=(\d+)", proc.stdout).groups()
    return array, merge, proc.stdout


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    _, made = tiny_class(tmp_path_factory.mktemp("plain") / "class")
    grade_plain(made)
    return made


def test_array_and_merge_equal_single_machine_grading(slurm, plain, tmp_path):
    _, made = tiny_class(tmp_path / "class")
    started = time.perf_counter()
    array, merge, out = submit(slurm, made, tmp_path / "shards")
    assert f"squeue -j {array},{merge}" in out and f"sacct -j {array},{merge}" in out
    states = wait(slurm, [array, merge])
    assert states == {f"{array}_{i}": "COMPLETED" for i in range(3)} | {merge: "COMPLETED"}, states
    print(f"\nмассив из 3 задач + слияние в Slurm: {time.perf_counter() - started:.1f} с")
    for i in range(3):
        m = shards.read_manifest(tmp_path / "shards" / str(i))
        assert m["finished"] and m["slurm"]["SLURM_ARRAY_JOB_ID"] == array and m["slurm"]["SLURM_ARRAY_TASK_ID"] == str(i)
    assert "шардов 3 из 3, студентов 6" in (tmp_path / "shards" / f"slurm-merge-{merge}.out").read_text()
    assert rows(made["tmp"]) == rows(plain["tmp"])
    assert scores(made["tmp"] / "gradebook.db") == scores(plain["tmp"] / "gradebook.db")
    assert {r["student"]: r["status"] for r in rows(made["tmp"]).values()}["tamper"] == "ok"


def test_a_cancelled_task_is_named_and_the_printed_command_closes_it(slurm, plain, tmp_path):
    _, made = tiny_class(tmp_path / "class")
    shards_dir = tmp_path / "shards"
    array, merge, _ = submit(slurm, made, shards_dir, "--hold")
    sh(["scancel", f"{array}_1"], slurm["env"])
    sh(["scontrol", "release", f"{array}_0", f"{array}_2"], slurm["env"])
    states = wait(slurm, [array], timeout=900)
    # a task cancelled while pending leaves no record (Slurm 22.05) or a CANCELLED one
    assert states.get(f"{array}_1", "CANCELLED") == "CANCELLED", states
    assert states[f"{array}_0"] == states[f"{array}_2"] == "COMPLETED", states
    assert not (shards_dir / "1").exists()
    deadline = time.time() + 60  # afterok can never be satisfied: --kill-on-invalid-dep cancels the merge
    while time.time() < deadline and sh(["squeue", "-h", "-j", merge], slurm["env"], check=False).stdout.strip():
        time.sleep(2)
    queued = sh(["squeue", "-h", "-o", "%T %r", "-j", merge], slurm["env"], check=False).stdout.strip()
    if queued:  # still held by --hold: it must be waiting for good
        assert "DependencyNeverSatisfied" in queued, queued
        sh(["scancel", merge], slurm["env"])
    else:
        assert wait(slurm, [merge], timeout=10).get(merge, "CANCELLED") == "CANCELLED"
    assert not (shards_dir / f"slurm-merge-{merge}.out").exists()
    env = dict(slurm["env"], SHARDS="3", COURSE=str(made["tmp"]), SHARDS_DIR=str(shards_dir),
               GRADING_ARGS=" ".join(options(made)))
    proc = sh([str(SLURM / "merge.sbatch")], env, timeout=600, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{shards_dir / '1'}: нет shard.json" in proc.stderr, proc.stderr
    graded = {s for i in (0, 2) for s in shards.read_manifest(shards_dir / str(i))["logins"]}
    assert set(rows(made["tmp"])) == {csv_safe(s) for s in graded}  # the complete shards are merged
    resubmit = [c for c in printed_commands(proc.stderr) if "sbatch" in c]
    assert len(resubmit) == 1 and "--array=1 --partition=grading " in resubmit[0], proc.stderr
    job = re.search(r"Submitted batch job (\d+)", sh(["bash", "-c", resubmit[0]], slurm["env"]).stdout)[1]
    assert set(wait(slurm, [job]).values()) == {"COMPLETED"}
    proc = sh([str(SLURM / "merge.sbatch")], env, timeout=600)
    assert "шардов 3 из 3, студентов 6" in proc.stdout
    assert rows(made["tmp"]) == rows(plain["tmp"])
    assert scores(made["tmp"] / "gradebook.db") == scores(plain["tmp"] / "gradebook.db")
    once = fingerprint(made["tmp"])
    sh([str(SLURM / "merge.sbatch")], env, timeout=600)
    assert fingerprint(made["tmp"]) == once


RTOL = 1e-5  # as tests/test_train.py
PRETRAIN_TAGS = ["train/loss", "train/MLM", "train/SOP", "train/grad_norm", "train/lr"]


def test_train_sbatch_two_tasks_match_one_process(slurm, tiny_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run / "tokenizer", run_dir / "tokenizer")  # one vocabulary for both runs
    env = dict(slurm["env"], NPROC_PER_NODE="1", RDZV_PORT=str(free_port()))
    out = tmp_path / "train.out"
    job = sh(["sbatch", "--parsable", "-n", "2", "--ntasks-per-node=2", f"--output={out}", str(SLURM / "train.sbatch"),
              "--data", str(tiny_run.parent / "tiny.csv"), "--run-dir", str(run_dir), "--set", *TINY], env).stdout
    job = job.strip().split(";")[0]
    assert wait(slurm, [job]) == {job: "COMPLETED"}, out.read_text()[-3000:]
    log = out.read_text()
    assert "train: 2 torchrun x 1 processes" in log and "процессов 2" in log, log[-3000:]
    for tag in PRETRAIN_TAGS:
        one, two = scalars(tiny_run / "pretrain", tag), scalars(run_dir / "pretrain", tag)
        assert len(one) == len(two) > 0, tag
        np.testing.assert_allclose(two, one, rtol=RTOL, err_msg=tag)
    for tag in ["train/loss", "eval", "f1"]:
        one, two = scalars(tiny_run / "finetune", tag), scalars(run_dir / "finetune", tag)
        assert len(one) == len(two) > 0, tag
        np.testing.assert_allclose(two, one, rtol=RTOL, err_msg=tag)
