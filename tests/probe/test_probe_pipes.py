"""Pipe/FIFO probes against real pipes, FIFOs and blocked child processes."""

from __future__ import annotations

import fcntl
import os
import subprocess

import pytest

from ipcviz.probe import find_pipes, peek_pipe, pipe_inode

PAYLOAD = bytes(range(256)) * 256 + b"!"  # 65537 bytes: one more than a default pipe holds
F_SETPIPE_SZ = 1031
HIGH_FD = 100


def _open_at_high_fd(path: str, flags: int) -> None:
    fd = os.open(path, flags)
    os.dup2(fd, HIGH_FD)
    os.close(fd)


def test_pipe_inode_anon_pipe(fds, tmp_path):
    r, w = fds.pipe()
    me = os.getpid()
    assert pipe_inode(me, r) == pipe_inode(me, w) == os.fstat(r).st_ino
    regular = os.open(tmp_path / "plain", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    fds.add(regular)
    assert pipe_inode(me, regular) is None
    fds.close(w)
    assert pipe_inode(me, w) is None  # closed fd


def test_pipe_inode_fifo(fds, tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path, 0o600)
    (fd,) = fds.add(os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC))
    assert os.readlink(f"/proc/self/fd/{fd}") == str(path)  # readlink gives the path...
    assert pipe_inode(os.getpid(), fd) == os.stat(path).st_ino  # ...stat gives the inode


def test_peek_full_pipe_never_consumes(children, fds, wchan):
    r, w = fds.pipe()

    def writer():
        os.close(r)
        os.write(w, PAYLOAD)

    pid = children.blocked(writer, "anon_pipe_write")
    fds.close(w)
    for _ in range(3):
        peek = peek_pipe(pid, w)  # the writer's end, in the writer process
        assert peek is not None
        assert (peek.nbytes, peek.capacity) == (65536, 65536)
        assert peek.data == PAYLOAD[:65536]
    mine = peek_pipe(os.getpid(), r)  # the read end works too
    assert mine is not None and mine.data == PAYLOAD[:65536]
    short = peek_pipe(pid, w, max_bytes=10)
    assert short is not None and short.nbytes == 65536 and short.data == PAYLOAD[:10]
    assert wchan(pid) == "anon_pipe_write"  # still blocked: nothing was drained
    got = b""
    while len(got) < len(PAYLOAD):
        got += os.read(r, 65536)
    assert got == PAYLOAD  # the reader receives every byte, in order
    assert children.reap(pid) == 0


def test_writer_still_gets_epipe_after_probed_reader_exits(children, fds, wait_until):
    r, w = fds.pipe()
    cr, cw = fds.pipe()

    def reader():
        os.close(w)
        os.close(cw)
        os.read(cr, 1)  # holds r, reads nothing from it

    def writer():
        os.close(r)
        os.close(cw)
        os.write(w, b"hello")
        os.read(cr, 1)  # wait for "go"
        try:
            os.write(w, b"more")
        except BrokenPipeError:
            os._exit(0)
        os._exit(3)

    reader_pid = children.blocked(reader, "anon_pipe_read")
    writer_pid = children.spawn(writer)
    fds.close(r)
    fds.close(w)
    fds.close(cr)
    wait_until(lambda: (p := peek_pipe(reader_pid, r)) is not None and p.nbytes == 5)
    for pid, fd in ((reader_pid, r), (writer_pid, w), (reader_pid, r), (writer_pid, w)):
        peek = peek_pipe(pid, fd)
        assert peek is not None and peek.data == b"hello"
    children.kill(reader_pid)  # the last reader is gone
    orphan = peek_pipe(writer_pid, w)
    assert orphan is not None and orphan.nbytes == 5
    assert orphan.data == b""  # no reader: the probe must not open one
    os.write(cw, b"g")
    assert children.reap(writer_pid) == 0  # the writer got EPIPE although we probed


def test_peek_fifo_both_ends(children, fds, tmp_path, wait_until):
    path = str(tmp_path / "fifo")
    os.mkfifo(path, 0o600)
    gate_r, _gate_w = fds.pipe()

    def opener(flags: int, data: bytes) -> None:
        _open_at_high_fd(path, flags)
        if data:
            os.write(HIGH_FD, data)
        os.read(gate_r, 1)

    reader = children.spawn(lambda: opener(os.O_RDONLY, b""))
    writer = children.spawn(lambda: opener(os.O_WRONLY, b"fifo-data"))
    ino = os.stat(path).st_ino
    wait_until(lambda: (p := peek_pipe(writer, HIGH_FD)) is not None and p.nbytes == 9)
    # the writer's open returned once the reader was in open(): the reader may not have
    # moved its descriptor to HIGH_FD yet (seen on a loaded machine)
    wait_until(lambda: pipe_inode(reader, HIGH_FD) == ino)
    for pid in (reader, writer):
        assert pipe_inode(pid, HIGH_FD) == ino
        peek = peek_pipe(pid, HIGH_FD)
        assert peek is not None
        assert (peek.nbytes, peek.capacity, peek.data) == (9, 65536, b"fifo-data")
    ends = find_pipes([reader, writer])[ino]
    assert ends.path == path
    assert ends.readers == [(reader, HIGH_FD)] and ends.writers == [(writer, HIGH_FD)]


def test_peek_fifo_without_reader_does_not_wake_blocked_opener(
    children, fds, tmp_path, wait_until, wchan
):
    path = str(tmp_path / "fifo")
    os.mkfifo(path, 0o600)
    (keep_r,) = fds.add(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    gate_r, _gate_w = fds.pipe()

    def first_writer():
        os.close(keep_r)  # inherited by fork; w1 must not count as a reader
        _open_at_high_fd(path, os.O_WRONLY)
        os.write(HIGH_FD, b"abc")
        os.read(gate_r, 1)

    w1 = children.spawn(first_writer)
    wait_until(lambda: (p := peek_pipe(w1, HIGH_FD)) is not None and p.nbytes == 3)
    fds.close(keep_r)  # now the FIFO has no reader, 3 bytes stranded
    w2 = children.blocked(lambda: os.open(path, os.O_WRONLY), "wait_for_partner")
    for _ in range(20):
        peek = peek_pipe(w1, HIGH_FD)
        assert peek is not None and peek.nbytes == 3 and peek.data == b""
    # Opening a read end would have let w2's open() return; it must still be waiting. No
    # sleep needed: the kernel wakes a sleeper synchronously, inside the opener's open(),
    # so had a peek opened a reader, w2 would be runnable (state R, no wchan) by now.
    assert os.waitpid(w2, os.WNOHANG) == (0, 0)
    assert proc_state(w2) == "S" and wchan(w2) == "wait_for_partner"


def proc_state(pid: int) -> str:
    """The one-letter scheduler state of pid (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_peek_packet_pipe_with_many_buffers(fds):
    r, w = fds.pipe(os.O_DIRECT | os.O_NONBLOCK)  # packet mode: one pipe buffer per write
    fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
    packets = [bytes([i]) * 10 for i in range(100)]  # 100 buffers > 16 default scratch slots
    for p in packets:
        os.write(w, p)
    peek = peek_pipe(os.getpid(), r)
    assert peek is not None
    assert (peek.nbytes, peek.capacity) == (1000, 1 << 20)
    assert peek.data == b"".join(packets)
    assert [os.read(r, 100) for _ in packets] == packets  # still all there, still packets


def test_peek_not_a_pipe_or_gone(children, fds, tmp_path):
    (regular,) = fds.add(os.open(tmp_path / "f", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600))
    assert peek_pipe(os.getpid(), regular) is None
    r, w = fds.pipe()
    fds.close(r)
    assert peek_pipe(os.getpid(), r) is None
    pid = children.spawn(lambda: None)
    assert children.reap(pid) == 0
    assert peek_pipe(pid, w) is None
    assert pipe_inode(pid, w) is None
    assert find_pipes([pid]) == {}


@pytest.fixture
def pipeline():
    """`seq 1 200000 | grep 7 | sleep 30`: uninstrumented programs; the last never reads."""
    procs: list[subprocess.Popen] = []
    try:
        seq = subprocess.Popen(
            ["seq", "1", "200000"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        procs.append(seq)
        grep = subprocess.Popen(["grep", "7"], stdin=seq.stdout, stdout=subprocess.PIPE)
        procs.append(grep)
        sleep = subprocess.Popen(["sleep", "30"], stdin=grep.stdout, stdout=subprocess.DEVNULL)
        procs.append(sleep)
        seq.stdout.close()
        grep.stdout.close()
        yield seq.pid, grep.pid, sleep.pid
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_find_pipes_matches_ends_of_a_shell_like_pipeline(pipeline, wchan, wait_until):
    from ipcviz.probe import blocked_on

    seq, grep, sleep = pipeline
    wait_until(lambda: wchan(grep) == "anon_pipe_write" and wchan(seq) == "anon_pipe_write")
    pipes = find_pipes([seq, grep, sleep])
    assert len(pipes) == 2
    first = next(p for p in pipes.values() if p.writers == [(seq, 1)])
    second = next(p for p in pipes.values() if p.writers == [(grep, 1)])
    assert first.readers == [(grep, 0)] and first.path is None
    assert second.readers == [(sleep, 0)]
    assert first.inode == pipe_inode(seq, 1) == pipe_inode(grep, 0)
    assert second.inode == pipe_inode(grep, 1) == pipe_inode(sleep, 0)
    info = blocked_on(grep)
    assert info is not None and info.syscall == "write"
    assert info.target is not None and info.target.inode == second.inode
    full = peek_pipe(sleep, 0)
    assert full is not None and full.nbytes > 60000
    assert full.data.startswith(b"7\n17\n27\n")
