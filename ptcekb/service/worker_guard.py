"""The confinement of every process that evaluates SPARQL or parses a request body.

One place owns what the query workers (executor.py), the validation worker (validation_worker.py)
and the update worker (update_worker.py) do first, before they read any request:

* **die with the server** — ``PR_SET_PDEATHSIG`` (SIGKILL) and, right after, a check that the server
  is still the parent (spawned workers) or the grandparent (workers forked by the multiprocessing
  forkserver), which closes the race of a parent that died before the ``prctl``. A forkserver child
  also lets go of the forkserver's "alive" pipe and of the resource tracker's pipe that it inherits:
  while any worker held them, neither helper noticed the server's death (the forkserver exits when
  that pipe hits EOF, the tracker when every write end of its pipe is closed), so the forkserver kept
  living, and with it (it is their parent) the workers; ``kill -9`` of the server left them all.
* **a priority** — heavy work (the heavy lane's query workers, the validation worker) runs at a
  higher niceness (``Confinement.nice``): on a machine whose cores are all busy, the kernel runs
  light requests first.
* **a memory cap** — ``RLIMIT_AS`` of ``PTCEKB_WORKER_MEMORY`` bytes (config.py, default 2 GiB):
  a query that grows past it fails in its worker only, which is then replaced; the server says so.
* **no network** — a seccomp filter: ``socket()`` fails with EPERM for every address family but
  AF_UNIX (multiprocessing's pipes), ``connect()`` always, and io_uring (which can create sockets
  without the ``socket`` system call) is refused; then a self-test: opening an AF_INET socket must
  fail. pyoxigraph calls any ``SERVICE`` endpoint and fetches any ``LOAD`` URL itself, and a text
  check in the server that reads one spelling differently from the engine's parser (a comment ended
  by ``\\r``, ``SERVICE:x``) let it connect: at the process boundary, whatever the spelling, the
  engine's socket fails. Federation goes only through ptcekb's own allow-listed client, in the server
  (federation.py).

The filter is written here as a dozen BPF instructions (x86-64 and aarch64) rather than with
libseccomp: it needs no system library and no package (the only maintained Python binding is
Debian's, not on PyPI). Where it cannot be installed (another OS or architecture, a kernel without
seccomp, ``PTCEKB_NETWORK_GUARD=off``), ``probe()`` says why; the server then refuses SERVICE and
LOAD outright (sparql.py, update.py), says so once in its log and in the service description.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings

CONFINEMENT_FAILED = 70  # the exit code of a worker that could not install a required guard
HEAVY_NICE = 10  # the niceness of heavy work (heavy-lane query workers, validation): light work runs first


class GuardUnavailable(Exception):
    """The network filter cannot be installed here (the reason is the message)."""


def human(size: int) -> str:
    """2147483648 → ``2 GiB``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


# --------------------------------------------------------------------------------------------
# The pieces

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent(server_pid: int) -> None:
    """SIGKILL when the parent dies; exit now if the server is already gone (the race before prctl)."""
    if sys.platform != "linux":
        return
    libc = _libc()
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    parent = os.getppid()
    if parent != server_pid and _parent_of(parent) != server_pid:
        os._exit(1)  # our parent (or the forkserver's parent, the server) is already gone


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return int(file.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def release_helper_pipes() -> None:
    """Close the forkserver's "alive" pipe and the resource tracker's pipe a forkserver child inherits.

    Workers never start processes nor create named semaphores, so they need neither; holding them
    kept both helpers alive after the server was killed (see the module docstring)."""
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver  # noqa: SLF001 - the only handle on the inherited descriptor
    if server._forkserver_alive_fd is not None:
        _close(server._forkserver_alive_fd)
        server._forkserver_alive_fd = None
    tracker = resource_tracker._resource_tracker  # noqa: SLF001
    if tracker._fd is not None:
        _close(tracker._fd)
        tracker._fd = None


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def limit_memory(size: int) -> None:
    """Cap the address space (RLIMIT_AS): past it, allocations fail in this process only."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    resource.setrlimit(resource.RLIMIT_AS, (size, hard))


# -- seccomp ----------------------------------------------------------------------------------

_ARCHES = {  # machine: (AUDIT_ARCH_*, socket, connect, seccomp) system call numbers
    "x86_64": (0xC000003E, 41, 42, 317),
    "aarch64": (0xC00000B7, 198, 203, 277),
}
_IO_URING = (425, 426, 427)  # io_uring_setup, io_uring_enter, io_uring_register (same on both)
_X32_BIT = 0x40000000  # x32 system calls on x86-64: refused whole

_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _program(arch: int, socket_nr: int, connect_nr: int) -> list[tuple[int, int, int, int]]:
    """The BPF program as (code, jt, jf, k), with labels resolved to relative jumps."""
    deny, allow, check_family = "deny", "allow", "family"
    lines: list = [
        (_LD_W_ABS, 0, 0, 4),                       # seccomp_data.arch
        (_JEQ_K, None, deny, arch),                 # another ABI (i386 on x86-64...): refused whole
        (_LD_W_ABS, 0, 0, 0),                       # seccomp_data.nr
        (_JGE_K, deny, None, _X32_BIT),
        (_JEQ_K, check_family, None, socket_nr),
        (_JEQ_K, deny, None, connect_nr),
        *[(_JEQ_K, deny, None, nr) for nr in _IO_URING],
        (_RET_K, 0, 0, _RET_ALLOW),
        check_family,
        (_LD_W_ABS, 0, 0, 16),                      # seccomp_data.args[0], low 32 bits: the family (an int)
        (_JEQ_K, allow, deny, socket.AF_UNIX),
        allow,
        (_RET_K, 0, 0, _RET_ALLOW),
        deny,
        (_RET_K, 0, 0, _RET_ERRNO | errno.EPERM),
    ]
    labels, position = {}, 0
    for line in lines:
        if isinstance(line, str):
            labels[line] = position
        else:
            position += 1
    program, position = [], 0
    for line in lines:
        if isinstance(line, str):
            continue
        code, jt, jf, k = line

        def offset(target):
            return 0 if target is None else labels[target] - position - 1 if isinstance(target, str) else target
        program.append((code, offset(jt), offset(jf), k))
        position += 1
    return program


def deny_network() -> None:
    """Install the filter on every thread of this process (irreversible; inherited by children)."""
    if sys.platform != "linux":
        raise GuardUnavailable(f"seccomp is Linux only (this is {sys.platform})")
    machine = platform.machine()
    if machine not in _ARCHES:
        raise GuardUnavailable(f"no seccomp filter written for the {machine} architecture")
    arch, socket_nr, connect_nr, seccomp_nr = _ARCHES[machine]
    program = _program(arch, socket_nr, connect_nr)
    instructions = (_SockFilter * len(program))(*[_SockFilter(*line) for line in program])
    fprog = _SockFprog(len(program), instructions)
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise GuardUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(ctypes.get_errno())}")
    libc.syscall.restype = ctypes.c_long
    # seccomp(2) with TSYNC puts every thread of the process under the filter (prctl: only the caller).
    if libc.syscall(seccomp_nr, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(fprog)) != 0:
        reason = os.strerror(ctypes.get_errno())
        if threading_count() > 1 or libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise GuardUnavailable(f"seccomp filter refused by the kernel: {reason}")


def threading_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def check_network_denied() -> None:
    """The self-test: an AF_INET and an AF_INET6 socket must both be refused."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES, errno.EAFNOSUPPORT):
                continue
            raise GuardUnavailable(f"unexpected error from the self-test: {exc}") from None
        sock.close()
        raise GuardUnavailable(f"self-test failed: a {family.name} socket could still be opened")


# --------------------------------------------------------------------------------------------
# What the workers call, and what the server asks


@dataclass(frozen=True)
class Confinement:
    """What a worker is started with (plain data: pickled to the worker)."""

    server_pid: int
    memory: int | None  # bytes; None: no cap
    network_guard: bool  # True: the worker must install the filter, or exit
    forkserver_child: bool = False
    nice: int = 0  # added to the worker's niceness: heavy work yields the cores to light requests

    @classmethod
    def for_workers(cls, network_guard: bool, forkserver_child: bool = False,
                    settings: Settings | None = None, nice: int = 0) -> "Confinement":
        """Built in the server: the memory cap is its ``PTCEKB_WORKER_MEMORY`` (the worker reads no variable)."""
        if settings is None:
            from ..config import Settings  # here, not at the top: the workers' forkserver preloads this module

            settings = Settings.from_env()
        memory = settings.worker_memory
        return cls(os.getpid(), memory, network_guard, forkserver_child, nice)


def enter(confinement: Confinement) -> None:
    """The first thing a worker does. Exits the process when the network filter is required and fails:
    the server believes its workers cannot connect, so a worker that could must not serve."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops its workers
    die_with_parent(confinement.server_pid)
    if confinement.forkserver_child:
        release_helper_pipes()
    if confinement.memory is not None:
        limit_memory(confinement.memory)
    if confinement.nice:
        os.nice(confinement.nice)
    if confinement.network_guard:
        try:
            deny_network()
            check_network_denied()
        except (GuardUnavailable, OSError) as exc:
            print(f"ptcekb worker: cannot confine this process ({exc}); exiting", file=sys.stderr, flush=True)
            os._exit(CONFINEMENT_FAILED)


_EGRESS_WORDS = re.compile(r"(?<![A-Za-z])(service|load)(?![A-Za-z])", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def may_reach_out(text: str) -> bool:
    """Whether a query or update *might* hold SERVICE or LOAD, in any spelling: the keyword as a word,
    in any case, after SPARQL's \\u escapes are decoded, anywhere (comments, strings and IRIs
    included). Used only where the network filter is missing: it refuses too much, never too little."""
    decoded = _ESCAPE.sub(lambda m: _codepoint(m.group(1) or m.group(2)), text)
    return _EGRESS_WORDS.search(decoded) is not None


def _codepoint(digits: str) -> str:
    try:
        return chr(int(digits, 16))
    except (ValueError, OverflowError):
        return ""


_probed: str | None | bool = False


def probe() -> str | None:
    """None when workers can be kept off the network here, else the reason (asked once per process).

    Tried in a child process: a filter cannot be removed, and the server must keep its network."""
    global _probed
    if _probed is False:
        from ..config import Settings  # here, not at the top: the workers' forkserver preloads this module

        if not Settings.from_env().network_guard:
            _probed = "PTCEKB_NETWORK_GUARD=off"
    if _probed is False:
        try:
            result = subprocess.run([sys.executable, "-m", __name__, "--probe"], capture_output=True, text=True,
                                    timeout=60, env={**os.environ, "PYTHONWARNINGS": "ignore"})
            _probed = None if result.returncode == 0 else (result.stdout.strip() or result.stderr.strip()
                                                           or f"probe exited with {result.returncode}")
        except (OSError, subprocess.SubprocessError) as exc:
            _probed = f"probe failed: {exc}"
    return _probed


def _probe_main() -> int:
    try:
        deny_network()
        check_network_denied()
        # AF_UNIX must still work: multiprocessing's pipes are socket pairs.
        left, right = socket.socketpair()
        left.sendall(b"x")
        assert right.recv(1) == b"x"
        left.close(), right.close()
    except (GuardUnavailable, OSError, AssertionError) as exc:
        print(str(exc) or type(exc).__name__)
        return 1
    return 0


if __name__ == "__main__" and sys.argv[1:] == ["--probe"]:
    sys.exit(_probe_main())
