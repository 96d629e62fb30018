"""Where a process maps a segment is read from /proc/PID/maps and kept a while (it is the
dearest probe), but never past the moment it stops being true: a probe just after a
process attached names it attached. Real children, real segments; no sleeps."""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from types import SimpleNamespace

import sysv_ipc

from ipcviz import probe
from ipcviz.mechanisms.posix_shm.kernel import shm_maps
from ipcviz.mechanisms.sysv_shm.kernel import attached_at


def _gated(children, fds, then):
    """A child that runs ``then`` once the test writes a byte, reports with a byte, then
    waits for the test to close its pipe. Returns (pid, go, done)."""
    go_r, go_w = fds.pipe()
    done_r, done_w = fds.pipe()

    def child() -> None:
        os.close(go_w)  # (inherited: EOF on go_r needs the test's end to be the last)
        os.close(done_r)
        os.read(go_r, 1)
        kept = then()  # noqa: F841 (kept alive until the end)
        os.write(done_w, b"!")
        os.read(go_r, 1)  # EOF when the test closes its end

    pid = children.spawn(child)
    fds.close(go_r)
    fds.close(done_w)
    return pid, go_w, done_r


def test_a_posix_mapping_made_after_the_last_reading_is_seen(children, ipc, fds):
    shm = ipc.posix_shm(4096)
    bare = shm.name.lstrip("/")

    def mapit() -> mmap.mmap:
        return mmap.mmap(shm.fd, 4096)

    pid, go, done = _gated(children, fds, mapit)
    prober = SimpleNamespace(cache={}, map_moves=lambda pid: 0)
    assert bare not in shm_maps(prober, pid)
    os.write(go, b"x")
    assert os.read(done, 1) == b"!"
    # the reading above is a moment old, not MAPS_EVERY: it must not be kept
    assert bare in shm_maps(prober, pid)
    fds.close(go)
    assert children.reap(pid) == 0


def test_a_reading_of_an_earlier_process_with_the_same_pid_is_not_kept(children, ipc, fds):
    """A pid the kernel gave again is another process: the reading kept for the first one
    (same pid, same address-space size) is not the second's. The reading is made to look
    like one of an earlier process (another start time); it must be read again."""
    shm = ipc.posix_shm(4096)
    bare = shm.name.lstrip("/")
    pid, go, done = _gated(children, fds, lambda: mmap.mmap(shm.fd, 4096))
    os.write(go, b"x")
    assert os.read(done, 1) == b"!"
    prober = SimpleNamespace(cache={}, map_moves=lambda pid: 0)
    assert bare in shm_maps(prober, pid)
    kept = prober.cache["dev_shm_maps"][pid]
    (start, size), moves = kept.pages
    kept.pages = ((start - 1, size), moves)  # the earlier process: one tick older
    kept.found = {}  # ... which mapped nothing
    assert bare in shm_maps(prober, pid)  # read again: this process maps it
    fds.close(go)
    assert children.reap(pid) == 0


def test_a_same_size_remap_a_trace_showed_is_seen(children, ipc, fds):
    """One segment unmapped and another of the same size mapped keep the address space's
    size: only the calls tell (``Prober.map_moves``: strace's mmap and munmap)."""
    a, b = ipc.posix_shm(4096), ipc.posix_shm(4096)
    first = mmap.mmap(a.fd, 4096)  # inherited by the child at fork

    def swap() -> mmap.mmap:
        first.close()
        return mmap.mmap(b.fd, 4096)

    pid, go, done = _gated(children, fds, swap)
    first.close()  # (the test's own: the child's is its own copy)
    moves = [0]
    prober = SimpleNamespace(cache={}, map_moves=lambda _pid: moves[0])
    seen = shm_maps(prober, pid)
    assert a.name.lstrip("/") in seen and b.name.lstrip("/") not in seen
    os.write(go, b"x")
    assert os.read(done, 1) == b"!"
    moves[0] += 2  # what strace showed: a munmap, an mmap
    seen = shm_maps(prober, pid)
    assert b.name.lstrip("/") in seen and a.name.lstrip("/") not in seen, seen
    fds.close(go)
    assert children.reap(pid) == 0


def test_a_sysv_attachment_made_after_the_last_reading_is_seen(children, ipc, fds):
    seg = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, 0o600, 4096)
    seg.detach()  # (made attached: the child would inherit the attachment at fork)
    try:
        pid, go, done = _gated(children, fds, lambda: sysv_ipc.attach(seg.id))
        prober = SimpleNamespace(cache={}, map_moves=lambda pid: 0)
        st = probe.sysv_shm_stat(seg.id)
        assert st is not None and seg.id not in attached_at(prober, pid, st)
        os.write(go, b"x")
        assert os.read(done, 1) == b"!"
        st = probe.sysv_shm_stat(seg.id)
        assert st is not None and seg.id in attached_at(prober, pid, st)
        # and while nothing changes, the reading is kept (the point of keeping it)
        kept = prober.cache["sysv_shm_maps"][pid]
        assert attached_at(prober, pid, probe.sysv_shm_stat(seg.id)) is kept.found
        fds.close(go)
        assert children.reap(pid) == 0
    finally:
        seg.remove()


def test_a_malformed_proc_line_is_no_reading_and_no_traceback():
    """/proc/PID/stat and /proc/sysvipc/shm are parsed with care: a blank file, a field
    that is not a number (``²`` passes ``isdigit`` but not ``int``) is None, not a crash;
    a command with spaces and parentheses in it does not shift the fields."""
    from ipcviz.probe.shm import address_space, parse_space, parse_sysv_shm

    rest = " ".join(["S", *map(str, range(4, 22)), "777", "12345678", "9", "10"])
    assert parse_space(f"42 (a) b) (c) {rest}\n") == (777, 12345678)
    assert parse_space(Path(f"/proc/{os.getpid()}/stat").read_text()) == address_space(os.getpid())
    for bad in ("", "   \n", "42 (x)", rest.replace("777", "\u00b2"), rest.replace("777", "-3")):
        assert parse_space(f"42 (x) {bad}") is None, repr(bad)
    head = "key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime\n"
    good = "         0         42   600 4096   10    11      1  0 0 0 0 1700000000 0\n"
    st = parse_sysv_shm(head + good, 42)
    assert st is not None and st.attachments == (11, 1, 1700000000, 0)
    for bad in (good.replace("1700000000", "\u00b2"), good.replace(" 11 ", " x ")):
        assert parse_sysv_shm(head + bad, 42) is None
    assert parse_sysv_shm("", 42) is None and parse_sysv_shm(head + "42\n", 42) is None
