"""Fixtures for the probe tests: real child processes and real IPC objects, always cleaned up."""

from __future__ import annotations

import os
import secrets
import signal
import time
import traceback
from collections.abc import Callable, Iterator

import posix_ipc
import pytest
import sysv_ipc

DEADLINE = 5.0


def wait_until(pred: Callable[[], object], timeout: float = DEADLINE, what: str = "") -> object:
    """Poll pred until it returns something truthy; fail the test at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what or pred}")
        time.sleep(0.002)


def wchan(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return ""


class Children:
    """Forks real children running a function; kills (SIGKILL) and reaps leftovers at teardown."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    def spawn(self, fn: Callable[[], object]) -> int:
        pid = os.fork()
        if pid == 0:  # child: never return into pytest
            code = 0
            try:
                fn()
            except BaseException:
                traceback.print_exc()
                code = 99
            os._exit(code)
        self.pids.append(pid)
        return pid

    def blocked(self, fn: Callable[[], object], wait_point: str) -> int:
        """Spawn fn and wait until the child sleeps at kernel wait point `wait_point`."""
        pid = self.spawn(fn)
        wait_until(lambda: wchan(pid) == wait_point, what=f"{pid} to block in {wait_point}")
        return pid

    def reap(self, pid: int, timeout: float = DEADLINE) -> int:
        """Wait for pid to exit; return its exit code (or -signal)."""
        end = time.monotonic() + timeout
        while True:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                self.pids.remove(pid)
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > end:
                pytest.fail(f"child {pid} did not exit within {timeout} s")
            time.sleep(0.002)

    def kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        if pid in self.pids:
            self.pids.remove(pid)

    def cleanup(self) -> None:
        for pid in list(self.pids):
            self.kill(pid)


@pytest.fixture
def children() -> Iterator[Children]:
    kids = Children()
    try:
        yield kids
    finally:
        kids.cleanup()


class Fds:
    """fds opened by the test itself, closed at teardown."""

    def __init__(self) -> None:
        self.open: set[int] = set()

    def add(self, *fds: int) -> tuple[int, ...]:
        self.open.update(fds)
        return fds

    def pipe(self, flags: int = 0) -> tuple[int, int]:
        r, w = os.pipe2(flags | os.O_CLOEXEC)
        self.add(r, w)
        return r, w

    def close(self, fd: int) -> None:
        if fd in self.open:
            self.open.discard(fd)
            os.close(fd)

    def cleanup(self) -> None:
        for fd in list(self.open):
            self.close(fd)


@pytest.fixture
def fds() -> Iterator[Fds]:
    f = Fds()
    try:
        yield f
    finally:
        f.cleanup()


def unique_name() -> str:
    return f"/ipcviz-probetest-{secrets.token_hex(6)}"


class IpcObjects:
    """Creates POSIX/SysV objects with unique names; removes every one at teardown."""

    def __init__(self) -> None:
        self._cleanups: list[Callable[[], None]] = []

    def posix_sem(self, value: int = 0) -> posix_ipc.Semaphore:
        sem = posix_ipc.Semaphore(unique_name(), posix_ipc.O_CREX, mode=0o600, initial_value=value)
        self._cleanups.append(lambda: (sem.unlink(), sem.close()))
        return sem

    def posix_mq(self, **kw: int) -> posix_ipc.MessageQueue:
        mq = posix_ipc.MessageQueue(unique_name(), posix_ipc.O_CREX, mode=0o600, **kw)
        self._cleanups.append(lambda: (mq.unlink(), mq.close()))
        return mq

    def posix_shm(self, size: int) -> posix_ipc.SharedMemory:
        shm = posix_ipc.SharedMemory(unique_name(), posix_ipc.O_CREX, mode=0o600, size=size)
        self._cleanups.append(lambda: (shm.unlink(), shm.close_fd()))
        return shm

    def sysv_sem(self, value: int = 0) -> sysv_ipc.Semaphore:
        sem = sysv_ipc.Semaphore(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, value)
        self._cleanups.append(sem.remove)
        return sem

    def sysv_mq(self, **kw: int) -> sysv_ipc.MessageQueue:
        mq = sysv_ipc.MessageQueue(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, **kw)
        self._cleanups.append(mq.remove)
        return mq

    def cleanup(self) -> None:
        for fn in reversed(self._cleanups):
            try:
                fn()
            except (posix_ipc.Error, sysv_ipc.Error, OSError):
                pass


@pytest.fixture
def ipc() -> Iterator[IpcObjects]:
    objs = IpcObjects()
    try:
        yield objs
    finally:
        objs.cleanup()


@pytest.fixture(name="wait_until")
def _wait_until_fixture() -> Callable[..., object]:
    return wait_until


@pytest.fixture(name="wchan")
def _wchan_fixture() -> Callable[[int], str]:
    return wchan
