"""blocked_on / proc_stats against real children blocked in each kind of IPC wait."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from ipcviz.probe import BlockTarget, ProcSampler, blocked_on, proc_stats


def _info(pid: int):
    info = blocked_on(pid)
    assert info is not None
    return info


def test_read_on_empty_pipe(children, fds):
    r, _w = fds.pipe()
    pid = children.blocked(lambda: os.read(r, 1), "anon_pipe_read")
    info = _info(pid)
    assert (info.syscall, info.nr, info.wchan, info.stopped) == ("read", 0, "anon_pipe_read", False)
    assert info.args[0] == r and len(info.args) == 6
    assert info.target == BlockTarget("fd", fd=r, inode=os.fstat(r).st_ino)


def test_write_on_full_pipe(children, fds):
    _r, w = fds.pipe()
    pid = children.blocked(lambda: os.write(w, b"x" * 65537), "anon_pipe_write")
    info = _info(pid)
    assert info.syscall == "write"
    assert info.target == BlockTarget("fd", fd=w, inode=os.fstat(w).st_ino)


@pytest.mark.parametrize("fresh_process", [False, True])
def test_posix_sem_wait(children, ipc, fresh_process):
    sem = ipc.posix_sem(0)

    def waiter():
        if fresh_process:  # maps /dev/shm/sem.NAME itself
            code = f"import posix_ipc; posix_ipc.Semaphore({sem.name!r}).acquire()"
            os.execv(sys.executable, [sys.executable, "-c", code])
        # inherited from the creator: glibc's temporary file, "/dev/shm/sem.XXXXXX (deleted)"
        sem.acquire()

    pid = children.blocked(waiter, "futex_do_wait")
    info = _info(pid)
    assert info.syscall == "futex" and info.target is not None
    t = info.target
    assert t.kind == "futex" and t.name == sem.name
    assert t.path == "/dev/shm/sem." + sem.name[1:]
    assert t.offset == 0  # glibc waits on the value word at the start of the sem_t
    assert t.address == info.args[0]
    sem.unlink()  # waiters keep waiting on an object that no longer has a name
    t = _info(pid).target
    assert t is not None and t.name is None and t.path.endswith(" (deleted)")


def test_sysv_semop(children, ipc):
    sem = ipc.sysv_sem(0)
    pid = children.blocked(sem.acquire, "__do_semtimedop")
    info = _info(pid)
    assert info.syscall in ("semop", "semtimedop")
    assert info.target == BlockTarget("semop", ipc_id=sem.id)


def test_sysv_msgrcv_and_msgsnd(children, ipc):
    mq = ipc.sysv_mq()
    pid = children.blocked(mq.receive, "do_msgrcv")
    info = _info(pid)
    assert info.syscall == "msgrcv"
    assert info.target == BlockTarget("msgq", ipc_id=mq.id)
    children.kill(pid)

    full = ipc.sysv_mq()
    chunk = b"m" * 1024
    for _ in range(full.max_size // len(chunk)):
        full.send(chunk, block=False)
    pid = children.blocked(lambda: full.send(chunk), "do_msgsnd")
    info = _info(pid)
    assert info.syscall == "msgsnd"
    assert info.target == BlockTarget("msgq", ipc_id=full.id)


def test_posix_mq_receive_and_send(children, ipc):
    empty = ipc.posix_mq()
    pid = children.blocked(empty.receive, "wq_sleep")
    info = _info(pid)
    assert info.syscall == "mq_timedreceive"
    assert info.target is not None
    assert info.target.kind == "fd" and info.target.fd == empty.mqd
    assert info.target.name == empty.name
    children.kill(pid)

    full = ipc.posix_mq()
    for i in range(full.max_messages):  # default 10
        full.send(b"%d" % i, timeout=0)
    pid = children.blocked(lambda: full.send(b"one too many"), "wq_sleep")
    info = _info(pid)
    assert info.syscall == "mq_timedsend"
    assert info.target is not None
    assert (info.target.kind, info.target.fd, info.target.name) == ("fd", full.mqd, full.name)


@pytest.mark.parametrize("relative", [False, True])
def test_fifo_open_without_peer(children, tmp_path, relative):
    path = tmp_path / "fifo"
    os.mkfifo(path, 0o600)

    def opener():
        if relative:
            os.chdir(tmp_path)
            os.open("./fifo", os.O_RDONLY)
        else:
            os.open(path, os.O_RDONLY)

    pid = children.blocked(opener, "wait_for_partner")
    info = _info(pid)
    assert info.syscall == "openat"
    assert info.target == BlockTarget("fifo_open", path=str(path))


def test_sleep_and_wait_for_child(children, fds):
    pid = children.blocked(lambda: time.sleep(60), "hrtimer_nanosleep")
    info = _info(pid)
    assert info.syscall == "clock_nanosleep" and info.target == BlockTarget("sleep")

    def parent():
        r, w = os.pipe()
        if os.fork() == 0:  # grandchild: exits once the parent dies (EOF on its pipe)
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        os.close(r)
        os.wait()

    pid = children.blocked(parent, "do_wait")
    info = _info(pid)
    assert info.syscall == "wait4" and info.target == BlockTarget("child")


def test_stopped_process_keeps_its_syscall(children, fds, wchan, wait_until):
    r, _w = fds.pipe()
    pid = children.blocked(lambda: os.read(r, 1), "anon_pipe_read")
    os.kill(pid, signal.SIGSTOP)
    wait_until(lambda: wchan(pid) == "do_signal_stop")
    info = _info(pid)
    assert info.stopped and info.syscall == "read"
    assert info.target is not None and info.target.fd == r
    os.kill(pid, signal.SIGCONT)
    wait_until(lambda: wchan(pid) == "anon_pipe_read")
    assert not _info(pid).stopped


def test_running_process_has_no_target(children, wait_until):
    def spin():
        while True:
            pass

    pid = children.spawn(spin)
    wait_until(lambda: (i := blocked_on(pid)) is not None and i.nr is None)
    info = _info(pid)
    assert info.syscall is None and info.target is None and info.args == ()


def test_gone_process(children):
    pid = children.spawn(lambda: None)
    children.reap(pid)
    assert blocked_on(pid) is None
    assert proc_stats(pid) is None


def test_proc_sampler(children, wait_until):
    def spin():
        while True:
            pass

    busy = children.spawn(spin)
    sampler = ProcSampler()
    first = sampler.sample(busy)
    assert first is not None and first.pid == busy
    assert first.rss > 0 and first.num_threads == 1 and first.cpu_num >= 0
    wait_until(lambda: (s := sampler.sample(busy)) is not None and s.cpu_percent > 20)
    assert sampler.sample(busy).status == "running"

    zombie = children.spawn(lambda: None)
    wait_until(lambda: (s := sampler.sample(zombie)) is not None and s.status == "zombie")
    children.reap(zombie)
    assert sampler.sample(zombie) is None
    sampler.prune(set())
    assert sampler.sample(os.getpid()) is not None
