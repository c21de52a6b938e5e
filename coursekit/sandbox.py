"""The sandbox a student's kernel runs in during autograding (bubblewrap + seccomp + rlimits).

Only the kernel goes in; nbgrader (which reads the instructor source) stays outside. The grader
writes a JSON config and points CONFIG_ENV at it for the `nbgrader autograde` process; there
SafeExecute starts its kernels with SandboxKernelManager, which wraps `ipykernel_launcher` in
`bwrap` and talks to it over ZMQ IPC sockets in a fresh directory bind-mounted into the sandbox.

Inside: uid/gid 65534, no network, own pid/ipc/uts/user namespaces (no further user namespaces),
`--die-with-parent --new-session`, a cleared environment (only `kernel_env`), a seccomp filter,
read-only /usr, interpreter and venv, a private size-capped /tmp, read-only `tests.py` and data
file, and the kernel's working directory (that submission's autograded copy) writable.
Everything else of the host (course root, other submissions, gradebook, answer key, grader's
processes) is simply not mounted. Rlimits (address space, processes, file size, open files) are
set by the launcher inside; a watchdog outside sums the sandbox's resident memory and processes
and measures what the working copy holds on disk (bytes and number of files).
"""
import itertools
import json
import os
import platform
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import zmq
from jupyter_client import AsyncKernelClient, AsyncKernelManager
from jupyter_client.connect import channel_socket_types

CONFIG_ENV = "TASK3_SANDBOX"          # path of the JSON config (grader side only)
EVENTS_ENV = "TASK3_EVENTS"           # JSON-lines file where memory/timeout ends are recorded
BWRAP_MISSING = "нужен bubblewrap (пакет bubblewrap): sudo apt-get install bubblewrap"  # = Makefile
NOBODY = 65534
WORKDIR = Path("/home/student/submission")  # the kernel's working copy as the kernel sees it
IPC_DIR = Path("/run/kernel")  # its sockets and connection file, as the kernel sees them
GiB, MiB = 1 << 30, 1 << 20
# defaults for a 2-core 24 GB machine running 2 workers
# (disk, files: what the kernel's working copy may hold in all; checked once a second)
CAPS = dict(memory=6 * GiB, processes=256, file_size=1 * GiB, open_files=1024, tmp_size=512 * MiB,
            disk=2 * GiB, files=10_000)
MAX_MSG_BYTES = 64 * MiB  # one ZMQ message from the kernel; bigger ones are dropped by zmq


def disk_use(root, max_entries):
    """(bytes on disk, entries) under root, symlinks not followed; stops counting past max_entries."""
    used = entries = 0
    folders = [root]
    while folders and entries <= max_entries:
        try:
            scan = os.scandir(folders.pop())
        except OSError:
            continue
        with scan:
            for entry in scan:
                entries += 1
                try:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    else:  # blocks, not st_size: a sparse file costs the disk nothing
                        used += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    pass
    return used, entries


def bwrap_path():
    return shutil.which("bwrap")


def require_bwrap():
    if not bwrap_path():
        raise SystemExit(BWRAP_MISSING)


def note(status, reason):
    """Record why a submission ended early (read by coursekit.grading)."""
    path = os.environ.get(EVENTS_ENV)
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(status=status, reason=reason), ensure_ascii=False) + "\n")


def events(path):
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- seccomp: a classic-BPF program, as bwrap --seccomp expects (struct sock_filter[]) ----------
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# denied with EPERM: debugging/reading other processes, inotify (watching the grader's files),
# keyrings, bpf/perf, (un)mounting and namespaces, modules, io_uring (bypasses seccomp)
DENIED = {
    "x86_64": dict(ptrace=101, process_vm_readv=310, process_vm_writev=311, inotify_init=253,
                   inotify_init1=294, inotify_add_watch=254, fanotify_init=300, keyctl=250,
                   add_key=248, request_key=249, bpf=321, perf_event_open=298, userfaultfd=323,
                   io_uring_setup=425, mount=165, umount2=166, unshare=272, setns=308,
                   pivot_root=155, chroot=161, open_tree=428, move_mount=429, fsopen=430,
                   fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, kexec_load=246,
                   init_module=175, finit_module=313, delete_module=176, kcmp=312, syslog=103,
                   acct=163, swapon=167, swapoff=168, reboot=169, quotactl=179,
                   name_to_handle_at=303, open_by_handle_at=304),
    "aarch64": dict(ptrace=117, process_vm_readv=270, process_vm_writev=271, inotify_init1=26,
                    inotify_add_watch=27, fanotify_init=262, keyctl=219, add_key=217,
                    request_key=218, bpf=280, perf_event_open=241, userfaultfd=282,
                    io_uring_setup=425, mount=40, umount2=39, unshare=97, setns=268,
                    pivot_root=41, chroot=51, open_tree=428, move_mount=429, fsopen=430,
                    fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, kexec_load=104,
                    init_module=105, finit_module=273, delete_module=106, kcmp=272, syslog=116,
                    acct=89, swapon=224, swapoff=225, reboot=142, quotactl=60,
                    name_to_handle_at=264, open_by_handle_at=265),
}
CLONE = {"x86_64": 56, "aarch64": 220}
CLONE3 = 435  # its flags are behind a pointer: ENOSYS makes glibc fall back to clone
CLONE_NEW_ANY = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
EPERM, ENOSYS = 1, 38
RET_ALLOW, RET_ERRNO, RET_KILL = 0x7FFF0000, 0x00050000, 0x80000000
LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06


def seccomp_filter(machine=None):
    """bytes of the BPF program for this machine's architecture (x86_64 or aarch64)."""
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCH:
        raise SystemExit(f"песочница: нет seccomp-фильтра для архитектуры {machine}")
    # (code, true-label, false-label, k); labels are resolved to relative jumps below
    prog = [(LD_ABS, None, None, 4),  # seccomp_data.arch
            (JEQ, None, "kill", AUDIT_ARCH[machine]),
            (LD_ABS, None, None, 0)]  # seccomp_data.nr
    if machine == "x86_64":  # x32 syscalls (nr | 0x40000000) would bypass the numbers below
        prog.append((JGE, "eperm", None, 0x40000000))
    prog += [(JEQ, "eperm", None, nr) for nr in DENIED[machine].values()]
    prog += [(JEQ, "enosys", None, CLONE3),
             (JEQ, None, "allow", CLONE[machine]),
             (LD_ABS, None, None, 16),  # low half of args[0] = clone flags (little-endian)
             (JSET, "eperm", "allow", CLONE_NEW_ANY)]
    labels = {"allow": RET_ALLOW, "eperm": RET_ERRNO | EPERM, "enosys": RET_ERRNO | ENOSYS,
              "kill": RET_KILL}
    at = {name: len(prog) + i for i, name in enumerate(labels)}
    out = b""
    for i, (code, jt, jf, k) in enumerate(prog):
        out += struct.pack("=HBBI", code, at[jt] - i - 1 if jt else 0, at[jf] - i - 1 if jf else 0, k)
    for value in labels.values():
        out += struct.pack("=HBBI", RET, 0, 0, value)
    return out


# --- rlimits, set inside the sandbox (after bwrap made the user namespace: RLIMIT_NPROC then
# counts only the sandbox's processes) ------------------------------------------------------------
LAUNCHER = """import resource, runpy, signal, sys
for name, value in {limits!r}:
    resource.setrlimit(getattr(resource, name), (value, value))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too big file is an OSError, not a dead kernel
sys.argv = ['ipykernel_launcher', *sys.argv[1:]]
runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)
"""


def launcher(caps):
    limits = [("RLIMIT_AS", caps["memory"]), ("RLIMIT_NPROC", caps["processes"]),
              ("RLIMIT_FSIZE", caps["file_size"]), ("RLIMIT_NOFILE", caps["open_files"]),
              ("RLIMIT_CORE", 0)]
    return LAUNCHER.format(limits=limits)


def system_mounts():
    """/usr read-only, /bin, /lib... as the host has them (symlinks into /usr or directories),
    and the few /etc files the dynamic loader and Python read."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/alternatives"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


def python_mounts():
    """The venv and the interpreter it links to, read-only at their real paths."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.executable).resolve().parent.parent}
    args = []
    for p in sorted(paths):
        if not str(p).startswith("/usr/"):
            args += ["--ro-bind", str(p), str(p)]
    return args


def bwrap_argv(workdir, ipc_dir, env, caps, read_only=None, seccomp_fd=None):
    """The bwrap command line (without the command): `workdir` writable at WORKDIR (the kernel's
    cwd), `ipc_dir` writable at IPC_DIR, `read_only` {host path: path inside}; no host path of the
    grader's tree appears inside."""
    argv = [bwrap_path(), "--unshare-all", "--unshare-user", "--disable-userns",
            "--uid", str(NOBODY), "--gid", str(NOBODY), "--die-with-parent", "--new-session",
            "--hostname", "sandbox", "--clearenv", *system_mounts(),
            # /dev read-only (its tmpfs has no size; device nodes stay usable), /dev/shm sized below
            "--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
            "--perms", "1777", "--size", str(caps["tmp_size"]), "--tmpfs", "/tmp",
            "--perms", "1777", "--size", str(caps["tmp_size"]), "--tmpfs", "/dev/shm",
            # after the private /tmp: a course cloned under /tmp has its venv there
            *python_mounts(),
            "--bind", str(workdir), str(WORKDIR), "--bind", str(ipc_dir), str(IPC_DIR)]
    for src, dest in (read_only or {}).items():
        if Path(src).exists():
            argv += ["--ro-bind", str(src), str(dest)]
    for key, value in env.items():
        argv += ["--setenv", key, str(value)]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    # the root (and the empty parents bwrap makes for the mounts, e.g. the course root above a venv
    # that lives in it) read-only: only the copy, the IPC dir, /tmp and /dev/shm are writable
    return argv + ["--remount-ro", "/", "--chdir", str(WORKDIR)]


def base_env(python_bin):
    # JPY_PARENT_PID=1: ipykernel neither polls its parent (bwrap's init is pid 1) nor prints a banner
    return {"PATH": f"{python_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "USER": "student",
            "LOGNAME": "student", "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp/matplotlib",
            "JPY_PARENT_PID": "1"}


def write_config(path, kernel_env, caps=None, read_only=None, ipc_parent=None):
    """The grader's side: what SandboxKernelManager needs (read from CONFIG_ENV). `ipc_parent`: a
    folder of the grader's in which the kernels' IPC folders are made (the grader removes it)."""
    Path(path).write_text(json.dumps(dict(kernel_env={k: str(v) for k, v in kernel_env.items()},
                                          caps={**CAPS, **(caps or {})},
                                          read_only={str(k): str(v) for k, v in (read_only or {}).items()},
                                          ipc_parent=str(ipc_parent) if ipc_parent else None)))
    return path


def sanitize(tree):
    """Remove what the kernel may have left to trick the grader, which later writes and copies
    this tree: symlinks, FIFOs, sockets, devices. Run when no sandbox process is left."""
    tree = Path(tree)
    removed = []
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            mode = os.lstat(p).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                p.unlink()
                removed.append(str(p.relative_to(tree)))
        dirnames[:] = [d for d in dirnames if (Path(dirpath) / d).is_dir()]  # symlinks are gone
    return removed


def kill_and_wait(procs):
    """SIGKILL each of procs (psutil.Process) and wait up to 10 s for them to be gone."""
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


KERNEL_LOG_BYTES = 64 * 1024  # of the kernel's own stdout/stderr, kept in the grader's log


def drain(pipe, out, keep=KERNEL_LOG_BYTES):
    """Read the kernel's stdout/stderr pipe to its end; the first `keep` bytes go to `out`."""
    kept = 0
    with pipe:
        for chunk in iter(lambda: pipe.read(65536), b""):
            if kept < keep:
                out.write(chunk[:keep - kept].decode(errors="replace"))
                out.flush()
                kept += len(chunk)


_MANAGERS = []  # every sandbox started in this process (close_all ends them)


def close_all():
    """Whatever way the kernels ended (shutdown, crash, exit() in a cell): kill what is left of
    each sandbox, delete its IPC folder and remove the links, FIFOs and devices the kernel left in
    its working copy. nbgrader's Execute calls this before nbgrader writes the graded notebook
    there; it does not rely on jupyter_client calling the manager's cleanup hook."""
    while _MANAGERS:
        _MANAGERS.pop().finish()


class SandboxClient(AsyncKernelClient):
    """Caps the size of one message from the kernel (the grader's memory is not the kernel's)."""

    def _create_connected_socket(self, channel, identity=None):
        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
        if identity:
            sock.identity = identity
        sock.connect(self._make_url(channel))
        return sock


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in bwrap (config from CONFIG_ENV)."""

    client_class = "coursekit.sandbox.SandboxClient"

    async def _async_pre_start_kernel(self, **kw):
        config = json.loads(Path(os.environ[CONFIG_ENV]).read_text())
        self.caps = config["caps"]
        workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
        # short path: unix socket names are limited to ~107 bytes
        self.ipc_dir = Path(tempfile.mkdtemp(prefix="k", dir=config.get("ipc_parent")))
        _MANAGERS.append(self)
        os.chmod(self.ipc_dir, 0o700)
        self.transport, self.ip = "ipc", str(self.ipc_dir / "k")
        self.connection_file = str(self.ipc_dir / "kernel.json")
        self.kernel_spec.interrupt_mode = "message"  # a signal to bwrap does not reach the kernel
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        # the kernel gets its own connection file: same sockets, seen at IPC_DIR
        info = json.loads(Path(self.connection_file).read_text())
        info["ip"] = str(IPC_DIR / "k")
        (self.ipc_dir / "inside.json").write_text(json.dumps(info))
        python = str(Path(sys.prefix).resolve() / "bin" / "python")
        args = [str(IPC_DIR / "inside.json") if a == self.connection_file else a
                for a in cmd[cmd.index("ipykernel_launcher") + 1:]]
        cmd = [python, "-c", launcher(self.caps)] + args
        env = base_env(Path(python).parent)
        env.update(config["kernel_env"])
        if kw.get("env", {}).get("NBGRADER_EXECUTION"):
            env["NBGRADER_EXECUTION"] = kw["env"]["NBGRADER_EXECUTION"]
        self._seccomp_fd = os.memfd_create("seccomp", 0)
        os.write(self._seccomp_fd, seccomp_filter())
        os.lseek(self._seccomp_fd, 0, os.SEEK_SET)
        argv = bwrap_argv(workdir, self.ipc_dir, env, self.caps, config["read_only"], self._seccomp_fd)
        self.workdir = workdir
        # stdout/stderr: a pipe the grader drains with a cap (no file of the grader's is inherited)
        kw.update(env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, cwd=str(self.ipc_dir),
                  pass_fds=(self._seccomp_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT)
        return argv + cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            os.close(self._seccomp_fd)
        self._bwrap = psutil.Process(self.provisioner.process.pid)
        self._drain = threading.Thread(target=drain, args=(self.provisioner.process.stdout, sys.stdout),
                                       daemon=True)
        self._drain.start()
        self._watch = threading.Thread(target=self._watch_memory, daemon=True)
        self._watch.start()

    def _tree(self):
        """bwrap and every process of its sandbox (psutil.Process refuses a reused pid)."""
        try:
            return [self._bwrap] + self._bwrap.children(recursive=True)
        except (psutil.NoSuchProcess, AttributeError):
            return []

    def _watch_memory(self):
        """RLIMIT_AS caps each process; this caps their sum of resident memory, and their number
        of processes and threads (RLIMIT_NPROC does not bind when the sandbox's uid maps to root,
        i.e. when the grader runs as root), and what the working copy holds (RLIMIT_FSIZE caps one
        file only). Checked a few times a second, the disk once a second."""
        disk, files = self.caps.get("disk", CAPS["disk"]), self.caps.get("files", CAPS["files"])
        for tick in itertools.count():
            procs = self._tree()
            if not procs:
                return
            total = tasks = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                    tasks += p.num_threads()
                except psutil.NoSuchProcess:
                    pass
            over = None
            if total > self.caps["memory"]:
                over = ("memory", f"процессы работы заняли больше {self.caps['memory'] / GiB:.1f} ГиБ памяти")
            elif tasks > self.caps["processes"] + 2:  # + bwrap and its init
                over = ("processes", f"больше {self.caps['processes']} процессов и потоков")
            elif tick % 4 == 0:
                used, entries = disk_use(self.workdir, files)
                ipc_used, ipc_entries = disk_use(self.ipc_dir, files)  # host disk too
                used, entries = used + ipc_used, entries + ipc_entries
                if used > disk:
                    over = ("disk", f"файлы работы заняли больше {disk / GiB:.1f} ГиБ на диске")
                elif entries > files:
                    over = ("disk", f"работа создала больше {files} файлов и папок")
            if over:
                note(*over)
                kill_and_wait(procs)
                return
            time.sleep(0.25)

    def finish(self):
        """Kill what is left of the sandbox, delete its IPC folder, sanitize its working copy."""
        kill_and_wait(self._tree())  # normally gone already: the pid namespace dies with bwrap
        shutil.rmtree(getattr(self, "ipc_dir", ""), ignore_errors=True)
        if getattr(self, "workdir", None) is not None:
            sanitize(self.workdir)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.finish()

    # jupyter_client binds cleanup_resources to the base class's coroutine (nbclient calls it for
    # a kernel that died by itself): without this line the override above would not run then
    cleanup_resources = _async_cleanup_resources
