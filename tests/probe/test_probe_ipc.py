"""Semaphore, message queue and shared memory probes against real kernel objects."""

from __future__ import annotations

import ctypes
import mmap
import os
import secrets
import signal
import time
from collections.abc import Callable

import pytest

from ipcviz.probe import (
    PosixMqStat,
    PosixSemStat,
    SysvSemStat,
    posix_mq_stat,
    posix_sem_stat,
    read_shm,
    shm_address,
    shm_addresses,
    sysv_mq_peek,
    sysv_mq_stat,
    sysv_sem_stat,
)
from tests.probe.conftest import wchan


def test_posix_sem_value_and_waiters(children, ipc, wait_until):
    sem = ipc.posix_sem(2)
    assert posix_sem_stat(sem.name) == PosixSemStat(value=2, waiters=0)
    assert posix_sem_stat(sem.name[1:]) == PosixSemStat(2, 0)  # leading slash optional
    sem.acquire()
    sem.acquire()
    assert posix_sem_stat(sem.name) == PosixSemStat(0, 0)
    first = children.blocked(sem.acquire, "futex_do_wait")
    assert posix_sem_stat(sem.name) == PosixSemStat(0, 1)  # glibc's nwaiters
    second = children.blocked(sem.acquire, "futex_do_wait")
    assert posix_sem_stat(sem.name) == PosixSemStat(0, 2)
    sem.release()
    sem.release()
    assert children.reap(first) == 0 and children.reap(second) == 0
    assert posix_sem_stat(sem.name) == PosixSemStat(0, 0)  # both woke and left
    sem.release()
    stat = posix_sem_stat(sem.name)
    assert stat is not None and stat.value == sem.value == 1  # matches sem_getvalue
    sem.unlink()
    assert posix_sem_stat(sem.name) is None


def test_sysv_sem_counts(children, ipc):
    sem = ipc.sysv_sem(0)
    assert sysv_sem_stat(sem.id) == SysvSemStat(0, 0, 0, os.getpid())  # SETVAL at creation
    waiter = children.blocked(sem.acquire, "__do_semtimedop")
    stat = sysv_sem_stat(sem.id)
    assert stat is not None and (stat.value, stat.ncnt, stat.zcnt) == (0, 1, 0)
    sem.release()
    assert children.reap(waiter) == 0
    stat = sysv_sem_stat(sem.id)
    assert stat is not None and (stat.value, stat.ncnt) == (0, 0)
    assert stat.last_pid == waiter  # the waiter's semop was the last one
    sem.release()
    zero = children.blocked(lambda: sem.Z(), "__do_semtimedop")
    stat = sysv_sem_stat(sem.id)
    assert stat is not None and (stat.value, stat.ncnt, stat.zcnt) == (1, 0, 1)
    assert stat.last_pid == os.getpid()
    sem.acquire()
    assert children.reap(zero) == 0
    assert sysv_sem_stat(sem.id, semnum=1) is None  # a set of one
    sem.remove()
    assert sysv_sem_stat(sem.id) is None


def test_sysv_mq_stat_matches_msqid_ds(children, ipc):
    mq = ipc.sysv_mq()
    stat = sysv_mq_stat(mq.id)
    assert stat is not None
    assert (stat.qnum, stat.cbytes, stat.lspid, stat.lrpid, stat.stime) == (0, 0, 0, 0, 0)
    assert stat.qbytes == mq.max_size
    sender = children.spawn(lambda: (mq.send(b"abc", type=5), mq.send(b"defgh", type=2)))
    assert children.reap(sender) == 0
    stat = sysv_mq_stat(mq.id)
    assert stat is not None
    assert (stat.qnum, stat.cbytes, stat.lspid) == (2, 8, sender)
    assert stat.stime == mq.last_send_time and stat.ctime == mq.last_change_time
    mq.receive()
    stat = sysv_mq_stat(mq.id)
    assert stat is not None and (stat.qnum, stat.lrpid) == (1, os.getpid()) and stat.rtime > 0
    mq.remove()
    assert sysv_mq_stat(mq.id) is None


def test_sysv_mq_peek_in_order_without_consuming(ipc):
    mq = ipc.sysv_mq(max_message_size=8192)  # kernel.msgmax
    messages = [(3, b"first"), (1, b"\x00bin\xff"), (7, b"x" * 8192), (3, b"")]
    for mtype, payload in messages:
        mq.send(payload, type=mtype)
    for _ in range(2):
        assert sysv_mq_peek(mq.id) == messages  # MSG_COPY works on this kernel
    assert sysv_mq_peek(mq.id, limit=2) == messages[:2]
    stat = sysv_mq_stat(mq.id)
    assert stat is not None and stat.qnum == 4 and stat.lrpid == 0  # nothing was received
    assert [mq.receive() for _ in messages] == [(p, t) for t, p in messages]
    assert sysv_mq_peek(mq.id) == []
    mq.remove()
    assert sysv_mq_peek(mq.id) is None


def test_posix_mq_stat(ipc):
    mq = ipc.posix_mq(max_messages=5, max_message_size=64)
    assert posix_mq_stat(mq.name) == PosixMqStat(0, 5, 64)
    mq.send(b"one")
    mq.send(b"two")
    assert posix_mq_stat(mq.name) == PosixMqStat(2, 5, 64)
    assert mq.receive()[0] == b"one"  # the probe consumed nothing
    mq.unlink()
    assert posix_mq_stat(mq.name) is None


def test_read_shm(ipc):
    shm = ipc.posix_shm(4096)
    with mmap.mmap(shm.fd, 4096) as m:
        m[:5] = b"hello"
        m[4090:4096] = b"tail!!"
    assert read_shm(shm.name) == b"hello" + bytes(4085) + b"tail!!"
    assert read_shm(shm.name, offset=4090) == b"tail!!"
    assert read_shm(shm.name, offset=1, length=3) == b"ell"
    assert read_shm(shm.name, offset=4094, length=100) == b"!!"
    assert read_shm(shm.name, offset=9999) == b""
    with pytest.raises(ValueError):
        read_shm("../etc/passwd")
    shm.unlink()
    assert read_shm(shm.name) is None


def test_shm_address_differs_per_process(children, ipc, fds):
    shm = ipc.posix_shm(4096)
    r, w = fds.pipe()
    gate_r, _gate_w = fds.pipe()

    def mapper(spacer_pages: int) -> None:
        spacer = mmap.mmap(-1, spacer_pages * 4096) if spacer_pages else None
        m = mmap.mmap(shm.fd, 4096)
        address = ctypes.addressof(ctypes.c_char.from_buffer(m))  # where *this* process sees it
        os.write(w, b"%d\n" % address)
        os.read(gate_r, 1)  # stay alive with the mapping (and the spacer) in place
        del spacer

    a = children.spawn(lambda: mapper(0))
    b = children.spawn(lambda: mapper(1))  # one page mapped first takes the spot
    buf = b""
    while buf.count(b"\n") < 2:
        buf += os.read(r, 100)
    told = {int(x) for x in buf.split()}
    probed = {shm_address(a, shm.name), shm_address(b, shm.name)}
    assert probed == told
    assert len(probed) == 2  # the same segment, at different addresses
    assert shm_address(os.getpid(), shm.name) is None  # the test process never mapped it
    bare = shm.name.lstrip("/")  # the one-pass reader the engine uses agrees
    assert {shm_addresses(a)[bare], shm_addresses(b)[bare]} == told
    assert bare not in (shm_addresses(os.getpid()) or {})


def test_removed_and_bogus_ids_return_none():
    assert sysv_mq_stat(2**31 - 1) is None
    assert sysv_mq_peek(2**31 - 1) is None
    assert sysv_sem_stat(2**31 - 1) is None
    assert posix_sem_stat("/ipcviz-probetest-does-not-exist") is None
    assert posix_mq_stat("/ipcviz-probetest-does-not-exist") is None
    with pytest.raises(ValueError):
        posix_sem_stat("/a/b")
    with pytest.raises(ValueError):
        posix_mq_stat("")


def _probe_in_child(probe: Callable[[], object]) -> str:
    """Run ``probe`` in a forked child: "None" or "a value" once it returns, "blocked" if it
    sleeps in a FIFO's open(2) waiting for a writer (then it is killed). No clock: one of
    the two happens, and the kernel tells which."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = 0 if probe() is None else 1
        finally:
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return ("None", "a value", "raised")[os.waitstatus_to_exitcode(status)]
        if wchan(pid) == "wait_for_partner":
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "blocked"
        time.sleep(0.001)


@pytest.mark.parametrize("kind", ["segment", "semaphore"])
def test_fifo_put_at_a_probed_name_does_not_hang_the_probe(kind):
    """/dev/shm is writable by every user: after a program unlinks its segment or named
    semaphore (still using it), anyone may mkfifo that name. The engine's probe opened it
    blocking, and the engine slept in open(2) for good (seen with `ipcviz run -- PROG`)."""
    name = f"ipcviz-test-fifo-{secrets.token_hex(4)}"
    path = f"/dev/shm/{name}" if kind == "segment" else f"/dev/shm/sem.{name}"
    probe = {"segment": lambda: read_shm(name), "semaphore": lambda: posix_sem_stat(name)}
    os.mkfifo(path, 0o600)
    try:
        assert _probe_in_child(probe[kind]) == "None"
    finally:
        os.unlink(path)
