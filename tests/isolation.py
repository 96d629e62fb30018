"""Two test workers on one machine, each in a world of its own.

The suite runs in two pytest-xdist workers where it can. Its leak check (``no_leaks`` in
conftest.py) counts every ipcviz object of a *dead* session: a fault test of one worker that
kills an engine on purpose, and cleans up after, would otherwise be counted as a leak by a
test of the other worker that ends in between. So each worker first moves into an IPC
namespace of its own (System V objects, POSIX queues) and a mount namespace where
``/dev/shm`` and ipcviz's runtime directories (registries, FIFOs, mapped files) are private
tmpfs mounts, as ``unshare --ipc --mount`` would do. Everything a worker's tests start
inherits that world; the machine's own objects are not seen and not touched.

That needs CAP_SYS_ADMIN (root, as in CI). Where it is refused, the suite runs in one
process, as before: ``auto_workers`` asks a forked child to try first.
"""

from __future__ import annotations

import ctypes
import os

from ipcviz.session.registry import runtime_candidates

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
MS_PRIVATE = 1 << 18
MS_REC = 0x4000
MS_NOSUID = 0x2
MS_NODEV = 0x4

_libc = ctypes.CDLL(None, use_errno=True)

#: This process moved into a world of its own (``isolate``): every System V object and
#: /dev/shm file in it is a test's, so the leak check counts them all (tests/leaks.py).
ISOLATED = False


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _private_tmpfs(path: str, mode: str) -> None:
    _check(
        _libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, mode.encode()),
        f"mount tmpfs on {path}",
    )


def isolate() -> None:
    """Move the calling thread (pytest runs tests in the main thread) into a fresh IPC and
    mount namespace with private /dev/shm and runtime directories. Raises OSError."""
    global ISOLATED
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    # nothing mounted here may propagate back to the machine's namespace
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _private_tmpfs("/dev/shm", "mode=1777")
    for candidate in runtime_candidates():
        if not candidate.parent.is_dir():
            continue  # ipcviz does not create parents (e.g. /run/user/0) either
        # The directory ipcviz itself would create (0700, ours), hidden behind a tmpfs.
        os.makedirs(candidate, mode=0o700, exist_ok=True)
        _private_tmpfs(str(candidate), "mode=0700")
    ISOLATED = True


def can_isolate() -> bool:
    """Whether ``isolate`` works here, tried in a forked child so this process is unchanged."""
    pid = os.fork()
    if pid == 0:
        try:
            isolate()
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def auto_workers() -> int:
    """``-n auto``: two workers where each can have a world of its own, else none (0)."""
    if os.environ.get("IPCVIZ_TEST_WORKERS"):
        return int(os.environ["IPCVIZ_TEST_WORKERS"])
    return 2 if (os.cpu_count() or 1) >= 2 and can_isolate() else 0
