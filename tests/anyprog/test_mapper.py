"""strace lines → records and events (no process): what the model is told, call by call."""

from __future__ import annotations

import contextlib
import os

from ipcviz.sources.strace import parser as P
from ipcviz.sources.strace.mapper import Mapper
from ipcviz.tracer import codes as C
from tests.anyprog.strace_text import MSGQ, PIPE, POSIX_MQ, POSIX_SHM, _rcv, x
from tests.anyprog.strace_text import P as PIPE_NAME


def run(text: str) -> tuple[Mapper, list[str]]:
    names: list[str] = []
    m = Mapper(names, "prog", ["./prog"])
    for line in text.splitlines():
        parsed = P.parse_line(line)
        if parsed is not None:
            m.feed(parsed)
    m.finish()
    return m, names


def kinds(m: Mapper) -> list[tuple]:
    """(pid, kind, fields that matter) of each action, the way the stream will say it."""
    out = []
    for a in m.out:
        if a[0] == "rec":
            code, _obj, _t, va, vb, data = a[2]
            out.append((a[1], C.TABLE[code & 0xFF].kind, va, vb, bytes(data)))
        elif a[0] == "start":
            out.append((a[1], "proc.start", a[4]["name"], a[4].get("parent")))
        else:
            out.append((a[1], a[3]["kind"], a[3].get("obj"), a[3].get("code")))
    return out


def test_pipe_parent_child() -> None:
    m, names = run(PIPE)
    assert names == ["pipe:[2235536]"]
    got = kinds(m)
    assert got[0] == (3306, "proc.start", "prog", None)
    assert (3306, "obj.declare", "pipe:[2235536]", None) in got
    assert (3307, "proc.start", "prog/1", 3306) in got
    writes = [g[4] for g in got if g[1] == "pipe.write"]
    reads = [g[4] for g in got if g[1] == "pipe.read"]
    assert b"".join(writes) == b"".join(reads) == b"message 1\nmessage 2\nmessage 3\n"
    assert [g for g in got if g[1] == "pipe.read"][-1][2] == 0  # end of file
    closes = [(g[0], g[2]) for g in got if g[1] == "pipe.close"]
    assert closes == [(3306, 0), (3307, 1), (3306, 1), (3307, 0)]
    assert [g for g in got if g[1] == "proc.exit"] == [
        (3307, "proc.exit", None, 0),
        (3306, "proc.exit", None, 0),
    ]
    # the write to the terminal and the read of libc are no IPC: not shown
    assert len(writes) == 3


def test_a_read_of_nothing_is_no_end_of_file() -> None:
    """``read(fd, buf, 0) = 0`` on a pipe holding bytes returns at once and takes nothing:
    it was recorded as a read of 0 bytes, which is end of file, and a correct program was
    accused of reading end of file from a pipe that held bytes (the review's finding)."""
    nothing = '3307  1795984768.124112 read(3<{P}>, "", 0) = 0 <0.000002>'.replace("{P}", PIPE_NAME)
    lines = PIPE.splitlines()
    at = next(i for i, line in enumerate(lines) if "read(3<" in line and "3307" in line)
    m, _ = run("\n".join([*lines[:at], nothing, *lines[at:]]))
    reads = [g for g in kinds(m) if g[1] == "pipe.read"]
    assert [g[2] for g in reads] == [30, 0]  # the 30 bytes, then the real end of file
    assert len(reads) == 2


def test_a_read_said_to_return_more_than_it_asked_is_not_told() -> None:
    """A SIGKILL of the program's own group, under load: strace wrote a child's read of
    1 byte as ``= 62``, with 61 bytes of its stack after the "b" it took. Told, it read 62
    bytes from a pipe holding 2: an ``order.conflict`` on a correct program. A kernel
    never returns more than was asked: what that call did is not known, and not told."""
    bogus = '3307  1795984768.124247 <... read resumed>"b\\3\\0\\0\\0", 1) = 62 <0.000115>'
    lines = PIPE.splitlines()
    at = next(i for i, line in enumerate(lines) if "<... read resumed>" in line)
    m, _ = run("\n".join([*lines[:at], bogus, *lines[at + 1 :]]))
    reads = [g for g in kinds(m) if g[1] == "pipe.read"]
    assert [g[2] for g in reads] == [0]  # the end of file only
    begins = [g for g in kinds(m) if g[1] == "pipe.read.begin"]
    assert len(begins) == 1  # the end of file's: the other's begin went with it


def test_begins_come_before_completions_and_carry_what_entry_knew() -> None:
    m, _ = run(PIPE)
    recs = [(a[1], a[2]) for a in m.out if a[0] == "rec"]
    codes = [(pid, rec[0]) for pid, rec in recs]
    for pid, code in codes:
        if code in C.COMPLETES:
            before = codes[: codes.index((pid, code))]
            assert (pid, C.COMPLETES[code]) in before
    begin = next(rec for _, rec in recs if rec[0] == C.PIPE_READ_BEGIN)
    assert begin[3] == 4096  # ``max``, printed only at the return


def test_typed_queue() -> None:
    m, names = run(MSGQ)
    assert names == ["msqid:2686997"]
    got = kinds(m)
    sends = [(g[2], g[4]) for g in got if g[1] == "mq.send"]
    recvs = [(g[0], g[2], g[4]) for g in got if g[1] == "mq.recv"]
    assert sends[:5] == [(3, b"c1"), (1, b"a1"), (2, b"b1"), (1, b"a2"), (3, b"c2")]
    assert [(t, d) for _, t, d in recvs] == [
        (2, b"b1"), (1, b"a1"), (3, b"c1"), (1, b"a2"), (3, b"c2"), (9, b"thanks")
    ]  # fmt: skip
    wants = [a[2][3] for a in m.out if a[0] == "rec" and a[2][0] == C.MSGQ_RECV_BEGIN]
    assert wants == [9, 2, -2, 0, -3, 0]  # the parent's msgrcv(9) entered first
    # a begin handed on before its return says its type is not known yet (``later``),
    # not "any type" (0): the entry line shows the queue alone
    partial = Mapper([], "prog", ["./prog"])
    for line in MSGQ.splitlines():
        parsed = P.parse_line(line)
        if parsed is not None:
            partial.feed(parsed)
        if "msgrcv(" in line and "<unfinished" in line:
            recs = [a[2] for a in partial.out if a[0] == "rec"]
            begin = next(r for r in recs if r[0] == C.MSGQ_RECV_BEGIN)
            assert (begin[3], begin[4]) == (0, 1)  # as it would be published now
            break
    assert (3312, "obj.remove", "msqid:2686997", None) in got
    assert m.made == {"msqid:2686997"} and m.removed == {"msqid:2686997"}


def test_a_child_that_prints_before_its_fork_returns() -> None:
    text = "\n".join(
        [
            f'1  1.000000 execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  1.000010 pipe([3<{x('pipe:[9]')}>, 4<{x('pipe:[9]')}>]) = 0 <0.000001>",
            "1  1.000020 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>",
            f"2  1.000030 close(4<{x('pipe:[9]')}>) = 0 <0.000001>",
            "1  1.000040 <... clone resumed>, child_tidptr=0x1) = 2 <0.000030>",
            "2  1.000050 +++ exited with 0 +++",
        ]
    )
    m, _ = run(text)
    got = kinds(m)
    assert got.index((2, "proc.start", "prog/1", 1)) < got.index((2, "pipe.close", 1, 0, b""))


def test_dup2_and_exec_close_only_the_last_descriptor() -> None:
    p = x("pipe:[9]")
    text = "\n".join(
        [
            f'1  1.000000 execve("{x("sh")}", ["{x("sh")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  1.000010 pipe2([3<{p}>, 4<{p}>], O_CLOEXEC) = 0 <0.000001>",
            f"1  1.000020 dup2(4<{p}>, 1<{x('/dev/null')}>) = 1<{p}> <0.000001>",
            f"1  1.000030 close(4<{p}>) = 0 <0.000001>",  # fd 1 still holds the write end
            f'1  1.000040 execve("{x("cat")}", ["{x("cat")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            "1  1.000050 +++ exited with 0 +++",
        ]
    )
    m, _ = run(text)
    closes = [(g[2]) for g in kinds(m) if g[1] == "pipe.close"]
    assert closes == [0]  # the read end, close-on-exec; the write end lives on as fd 1


def test_a_call_ends_when_strace_saw_it_return_not_entry_plus_T() -> None:
    """Captured: -T (116 µs) leaves out strace's own time at the entry; the read returned
    the byte the write (printed 223 µs after the read's entry) put in."""
    p = x("pipe:[9]")
    text = "\n".join(
        [
            f'1  1.000000 execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  1.000010 pipe([3<{p}>, 4<{p}>]) = 0 <0.000001>",
            "1  1.000020 clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x1) = 2 <0.000030>",
            f"2  1.001325 read(3<{p}>,  <unfinished ...>",
            f'1  1.001548 write(4<{p}>, "{x("x")}", 1) = 1 <0.000017>',
            f'2  1.001590 <... read resumed>"{x("x")}", 1) = 1 <0.000116>',
        ]
    )
    m, _ = run(text)
    stamp = {C.TABLE[a[2][0]].kind: a[2][2] for a in m.out if a[0] == "rec"}
    assert stamp["pipe.read"] == 1_001_592_000  # the resumed line's stamp (+2 µs rounding)
    assert stamp["pipe.write"] == 1_001_592_000  # the next line's stamp bounds it
    assert stamp["pipe.write.begin"] <= stamp["pipe.read"]


def test_system_v_semaphore() -> None:
    from tests.anyprog.strace_text import SEM

    m, names = run(SEM)
    assert names == ["semid:1900570"]
    got = [g for g in kinds(m) if g[1].startswith(("sem.", "obj."))]
    assert [(g[0], g[1]) for g in got] == [
        (8144, "obj.declare"),  # value 1 (SETVAL)
        (8144, "sem.wait.begin"),  # every P that can block begins (folded if not seen)
        (8144, "sem.wait"),
        (8145, "sem.wait.begin"),  # the child blocks in P
        (8144, "sem.post"),
        (8145, "sem.wait"),
        (8145, "sem.post"),
        (8144, "sem.trywait"),  # -1 with IPC_NOWAIT: took it
        (8144, "sem.post"),  # +2: two units
        (8144, "sem.post"),
        # -9 with IPC_NOWAIT: EAGAIN at value 2, no record: a failed trywait says the
        # value was 0 (verify: "trywait failed at value 2"); only a failed -1 is one
        (8144, "obj.remove"),
    ]
    assert [g[2] for g in got if g[1] == "sem.trywait"] == [1]
    declare = next(a[3] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.declare")
    assert (declare["type"], declare["value"]) == ("sysv_sem", 1)


def test_an_entry_seen_cut_off_is_completed_by_the_whole_line() -> None:
    """The engine may read a line strace is still writing (``Mapper.entry``): the rest of
    it (here the clone3 flags that say "a thread") must not be lost."""
    p = x("pipe:[9]")
    flags = "{flags=CLONE_VM|CLONE_FILES|CLONE_THREAD, exit_signal=0}"
    names: list[str] = []
    m = Mapper(names, "prog")
    feed = [
        f'1  1.000000 execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
        f"1  1.000010 pipe([3<{p}>, 4<{p}>]) = 0 <0.000001>",
    ]
    for line in feed:
        m.feed(P.parse_line(line))
    m.entry(1, 1_000_020, "clone3", "{flags=CLONE_VM|")  # what was there when the engine read
    for line in [
        f"1  1.000020 clone3({flags} <unfinished ...>",
        f'2  1.000030 write(4<{p}>, "{x("t")}", 1) = 1 <0.000001>',
        "1  1.000040 <... clone3 resumed> => {parent_tid=[2]}, 88) = 2 <0.000030>",
        "1  1.000050 +++ exited with 0 +++",
    ]:
        m.feed(P.parse_line(line))
    m.finish()
    starts = [a for a in m.out if a[0] == "start"]
    assert len(starts) == 1  # a thread is no process of its own
    write = next(a for a in m.out if a[0] == "rec" and a[2][0] & 0xFF == C.PIPE_WRITE)
    assert write[1] == 1 and write[2][0] >> 8 == 1  # process 1, its thread 1


def test_a_fifo_made_and_opened_relative_to_the_working_directory() -> None:
    cwd, rel = x("/work"), x("f")
    path = x("/work/f")
    text = "\n".join(
        [
            f'1  1.000000 execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f'1  1.000010 mknodat(AT_FDCWD<{cwd}>, "{rel}", S_IFIFO|0600) = 0 <0.000001>',
            f'1  1.000020 openat(AT_FDCWD<{cwd}>, "{rel}", O_RDWR) = 3<{path}> <0.000001>',
            f'1  1.000030 write(3<{path}>, "{x("ab")}", 2) = 2 <0.000001>',
            f'1  1.000040 unlink("{path}") = 0 <0.000001>',
            "1  1.000050 +++ exited with 0 +++",
        ]
    )
    m, names = run(text)
    assert names == ["/work/f"]
    got = kinds(m)
    assert (1, "obj.declare", "/work/f", None) in got
    assert [g[1] for g in got if g[1].startswith("pipe.")] == [
        "pipe.open.begin",
        "pipe.open",
        "pipe.write.begin",
        "pipe.write",
    ]
    assert m.fifos == {"/work/f": False}  # unlinked: nothing left behind


def test_a_threads_call_does_not_end_its_process_call_in_progress() -> None:
    """Captured: thread 2's write returns while its process (1) is inside clone3; calls in
    progress are the thread's own, not its process's."""
    p = x("pipe:[9]")
    thread = "{flags=CLONE_VM|CLONE_FILES|CLONE_THREAD, exit_signal=0}"
    text = "\n".join(
        [
            f'1  1.000000 execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  1.000010 pipe([3<{p}>, 4<{p}>]) = 0 <0.000001>",
            f"1  1.000020 clone3({thread} => {{parent_tid=[2]}}, 88) = 2 <0.000010>",
            f'2  1.000030 write(4<{p}>, "{x("a")}", 1 <unfinished ...>',
            f"1  1.000040 clone3({thread} <unfinished ...>",
            "2  1.000050 <... write resumed>) = 1 <0.000010>",
            "1  1.000060 <... clone3 resumed> => {parent_tid=[3]}, 88) = 3 <0.000010>",
            f'3  1.000070 write(4<{p}>, "{x("b")}", 1) = 1 <0.000001>',
            "1  1.000080 +++ exited with 0 +++",
        ]
    )
    m, _ = run(text)
    assert len([a for a in m.out if a[0] == "start"]) == 1  # threads, not processes
    lanes = [a[2][0] >> 8 for a in m.out if a[0] == "rec" and a[2][0] & 0xFF == C.PIPE_WRITE]
    assert lanes == [1, 2]


def test_posix_queue() -> None:
    names: list[str] = []
    m = Mapper(names, "prog", ["./prog"], mq_defaults=(10, 8192))
    for line in POSIX_MQ.splitlines():
        parsed = P.parse_line(line)
        if parsed is not None:
            m.feed(parsed)
    m.finish()
    assert names == ["mq:/s2t"]
    declare = next(a[3] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.declare")
    assert declare["type"] == "posix_mq" and declare["kernel_name"] == "/s2t"
    assert (declare["max_messages"], declare["max_message_size"]) == (10, 8192)
    assert "discovered" not in declare  # made here (O_EXCL): it held nothing before
    got = kinds(m)
    assert [(g[0], g[2], g[4]) for g in got if g[1] == "mq.send"] == [
        (26693, 1, b"lo"),
        (26693, 9, b"hi"),
    ]  # fmt: skip  (the timed-out send took no effect: no record)
    # the parent's receive printed no priority (NULL): it is the message's own, 9
    assert [(g[0], g[2], g[4]) for g in got if g[1] == "mq.recv"] == [
        (26693, 9, b"hi"), (26694, 1, b"lo")
    ]  # fmt: skip
    # each call that can block has its begin (folded away when nobody saw it wait); the
    # failed calls (a timed-out send, a notify on a closed descriptor) leave nothing
    assert [g[0] for g in got if g[1] == "mq.recv.begin"] == [26693, 26694]
    assert [g[0] for g in got if g[1] == "mq.send.begin"] == [26693, 26693]
    assert not [g for g in got if g[1] == "mq.notify"]
    # unlinked while open: removed when its last descriptor goes (the child's, at exit)
    order = [g[1] for g in got if g[0] == 26694]
    assert order[-2:] == ["proc.exit", "obj.remove"]
    assert [g for g in got if g[1] == "obj.remove"] == [(26694, "obj.remove", "mq:/s2t", None)]
    assert not [g for g in got if g[1] == "pipe.close"]  # a queue's descriptor is no pipe end


def test_a_process_records_never_go_back_in_time() -> None:
    """A call printed whole ends at the next line's stamp, widened by the rounding; when
    that line is the same process entering its next call, the next begin is no earlier
    (a ping-pong under load gave a read.begin stamped before the write just before it)."""
    p = x("pipe:[7]")
    text = (
        f"100  1.000010 pipe2([3<{p}>, 4<{p}>], 0) = 0 <0.000005>\n"
        f'100  1.000020 write(4<{p}>, "{x("x")}", 1) = 1 <0.000003>\n'
        f"100  1.000021 read(3<{p}>,  <unfinished ...>\n"
        f'100  1.000030 <... read resumed>"{x("x")}", 1) = 1 <0.000002>\n'
    )
    m, _ = run(text)
    stamps = [a[2][2] for a in m.out if a[0] == "rec"]
    kinds_ = [C.TABLE[a[2][0] & 0xFF].kind for a in m.out if a[0] == "rec"]
    assert kinds_ == ["pipe.write.begin", "pipe.write", "pipe.read.begin", "pipe.read"]
    assert stamps == sorted(stamps)


#: strace 6.1's lines for a System V segment (``-f -ttt -T -yy -xx``), one made before
#: the run (only attached here) and a process that never shows its shmget.
SHM = """\
3856 1796006247.150492 shmget(IPC_PRIVATE, 64, IPC_CREAT|0600) = 196623 <0.000027>
3856 1796006247.150637 shmat(196623, NULL, 0) = 0x7f34dbdd2000 <0.000024>
3856 1796006247.150712 shmctl(196623, IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=0, \
cuid=0, cgid=0}, shm_segsz=64, shm_cpid=3856, shm_lpid=3856, shm_nattch=1}) = 0 <0.000013>
3856 1796006247.150778 shmdt(0x7f34dbdd2000) = 0 <0.001431>
3856 1796006247.152247 shmctl(196623, IPC_RMID, NULL) = 0 <0.000032>
3856 1796006247.152309 shmget(0x1234, 4096, 0600) = 196624 <0.000031>
3856 1796006247.152369 shmat(196600, NULL, SHM_RDONLY) = 0x7f34dbdd2000 <0.000019>
3856 1796006247.152400 shmat(196601, NULL, 0) = -1 EINVAL (Invalid argument) <0.000019>
3856 1796006247.152708 +++ exited with 0 +++
"""


def test_sysv_shared_memory_segments() -> None:
    names: list[str] = []
    m = Mapper(names, "prog", ["./prog"])
    m.shm_size = {196624: 8192, 196600: 24}.get  # the kernel's sizes (the source reads them)
    for line in SHM.splitlines():
        parsed = P.parse_line(line)
        if parsed is not None:
            m.feed(parsed)
    m.finish()
    declares = {
        a[3]["obj"]: a[3] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.declare"
    }
    made = declares["shmid:196623"]
    assert (made["type"], made["size"], made["cells"], made["cell_size"]) == ("sysv_shm", 64, 8, 8)
    assert made["probe_cells"] and "discovered" not in made
    # found by its key: its size is the kernel's, not the one asked for
    found = declares["shmid:196624"]
    assert found["size"] == 8192 and found["discovered"] and "0x1234" in found["kernel_name"]
    assert declares["shmid:196600"]["cells"] == 3  # made before the run, seen at its attach
    assert "shmid:196601" not in declares  # a failed attach names nothing
    removed = [a[3]["obj"] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.remove"]
    assert removed == ["shmid:196623"]
    assert m.unknown_calls == 0 and not [a for a in m.out if a[0] == "rec"]
    assert set(m.segments) == {196624, 196600}  # the engine reads these (shmprobe.py)


def test_posix_shm_and_semaphores_are_declared_probed_with_no_operation() -> None:
    m, names = run(POSIX_SHM)
    assert names == ["shm:/seg", "sem:/seg.s", "sem:/seg@32"]
    declares = [a[3] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.declare"]
    seg, named, unnamed = declares
    assert (seg["type"], seg["kernel_name"], seg["size"], seg["cells"]) == (
        "posix_shm", "/seg", 64, 8
    )  # fmt: skip
    assert (named["type"], named["kernel_name"], named["value"]) == ("posix_sem", "/seg.s", 2)
    assert unnamed["type"] == "posix_sem" and unnamed["pid"] == 25623  # its first sleeper
    assert all(d["probed"] for d in declares)
    assert "discovered" not in seg and "discovered" not in named  # the program made them
    # no operation: a store, a P, a V make no system call; the futex is no operation either
    assert not [a for a in m.out if a[0] == "rec"]
    # unlinked and unmapped: gone, the unnamed semaphore with its segment
    removed = [a[3]["obj"] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.remove"]
    assert removed == ["sem:/seg.s", "shm:/seg", "sem:/seg@32"]
    assert not m.procs[25622].maps


def test_a_posix_segment_mapped_by_a_live_process_outlives_its_name() -> None:
    # the child (its mappings inherited at fork) has not exited when the parent unlinks
    lines = [line for line in POSIX_SHM.splitlines() if "+++ exited" not in line]
    m, _ = run("\n".join(lines))
    removed = [a[3]["obj"] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.remove"]
    assert removed == []  # the memory lives on while a process maps it
    assert {k.path for k, _, _ in m.procs[25623].maps.values()} == {
        "/dev/shm/seg", "/dev/shm/sem.seg.s"
    }  # fmt: skip


def test_a_queue_first_named_right_after_a_call_is_declared_after_that_call() -> None:
    """Attached after a receive was done, the queue is first named by the next receive,
    one microsecond after a write: widened by a microsecond each way, the entry would be
    stamped before the write's end, so the process's declare came after its write in
    the stream but before it in time (a program-order violation, seen in 2 of 50 attach
    runs). It is stamped no earlier than the process's last record."""
    exe = f'3312  1795984768.130800 execve("{x("./a")}", ["{x("./a")}"], 0x7ffc) = 0 <0.000050>'
    p = x("pipe:[99]")  # -yy names the pipe, -xx spells it in hex
    made = f"3312  1795984768.130900 pipe2([3<{p}>, 4<{p}>], 0) = 0 <0.000005>"
    write = f'3312  1795984768.130909 write(4<{p}>, "{x("hi")}", 2) = 2 <0.000002>'
    m, _ = run(f"{exe}\n{made}\n{write}\n" + _rcv(3312, "130912", "b1", 2, 0))
    write_end = next(a[2][2] for a in m.out if a[0] == "rec" and a[2][0] == C.PIPE_WRITE)
    declare = next(a[3] for a in m.out if a[0] == "event" and a[3]["obj"].startswith("msqid"))
    assert declare["kind"] == "obj.declare" and declare["t"] >= write_end


def test_a_call_right_after_the_one_that_named_an_object_is_not_stamped_before_it() -> None:
    """A command's mq_open of a queue already there, then at once a blocking receive on it
    (ipcviz run of a scenario whose command opens the scenario's queue): the declare is
    stamped at mq_open's end, widened two microseconds forward, and the receive's begin at
    its entry, widened one back, so a receive entered within 3 µs was stamped before the
    declare that comes first in the stream (``ipcviz verify``: program-order violation).
    The declare counts as the process's last record."""
    q = x("/q")
    text = (
        f'500  1.000100 mq_open("{x("q")}", O_RDWR) = 3<{q}> <0.000005>\n'
        f"500  1.000106 mq_timedreceive(3<{q}>,  <unfinished ...>\n"
        f'500  1.000200 <... mq_timedreceive resumed>"{x("hi")}", 8192, [0], NULL) = 2 <0.000090>\n'
    )
    m, _ = run(text)
    stamps = [a[3]["t"] if a[0] == "event" else a[2][2] for a in m.out if a[0] in ("event", "rec")]
    assert stamps == sorted(stamps)


def test_a_set_and_a_segment_opened_by_key_with_a_mode_alone() -> None:
    """sysv_ipc's Semaphore(key) and SharedMemory(key): ``semget(KEY, 1, 0600)`` and
    ``shmget(KEY, 0, 0600)`` (an octal mode alone) are read, not an internal error; and a
    numeric key is not taken for the set's size."""
    exe = f'700  1.000050 execve("{x("./a")}", ["{x("./a")}"], 0x7ffc) = 0 <0.000050>\n'
    text = exe + (
        "700  1.000100 semget(0x10af, 1, 0600) = 2883617 <0.000005>\n"
        "700  1.000200 shmget(0x3a7b, 0, 0600) = 196631 <0.000005>\n"
        "700  1.000250 shmat(196631, NULL, 0) = 0x7f7213c3a000 <0.000005>\n"
        "700  1.000260 semop(2883617, [{sem_num=0, sem_op=1, sem_flg=0}], 1) = 0 <0.000005>\n"
        "700  1.000300 +++ exited with 0 +++\n"
    )
    _, names = run(text)
    # one semaphore (its set's size, not its key 0x10af, read as the count): one object;
    # the segment's size is the kernel's (no probe here: not drawn)
    assert names == ["semid:2883617"]


def test_a_held_fork_ends_by_the_read_not_by_the_clock_after_it(tmp_path, monkeypatch) -> None:
    """``StraceSource.settle`` releases a call printed whole and last (held for the line
    that bounds its end) at the time of the read that emptied strace's pipe: the engine may
    have been off the CPU since, while strace wrote the child's first line. Released at the
    clock of then, the fork's ``proc.start`` came after that line (a loaded CI run of
    fifo-grep: ``wc``'s reads before its own start)."""
    import os
    import time

    from ipcviz.sources.strace import source as S

    src = S.StraceSource(["./p"], [], str(tmp_path / "strace.fifo"))
    writer = os.open(src.fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        now = time.time()
        fork = now - 0.050  # the parent's fork returned 50 ms ago: old enough to release
        os.write(
            writer,
            (
                f'1  {fork - 0.001:.6f} execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */)'
                f" = 0 <0.000001>\n1  {fork:.6f} clone(child_stack=NULL, flags=SIGCHLD,"
                " child_tidptr=0x1) = 2 <0.000020>\n"
            ).encode(),
        )
        src.read(collect=True)
        for line in src.pending:
            src.mapper.feed(line)
        src.pending.clear()
        # strace writes the child's first line now; the engine settles 30 ms later
        child = src.read_at_us / 1e6 + 0.005
        os.write(writer, f"2  {child:.6f} close(0</dev/null>) = 0 <0.000001>\n".encode())
        later = time.time_ns() + 30_000_000
        monkeypatch.setattr(S.time, "time_ns", lambda: later)
        src.settle()
        src.read()
        src.mapper.finish()
        start = next(a for a in src.mapper.out if a[0] == "start" and a[1] == 2)
        first = src.mapper._entry_ns(int(child * 1e6))
        assert start[3] <= first, (start[3], first)
    finally:
        os.close(writer)
        src.close()


def test_a_pipe_never_emptied_still_moves_the_horizon(tmp_path) -> None:
    """A program flooding faster than the engine reads: each read stops at its limit with
    strace's pipe still full. The horizon moved only when a read emptied the pipe, so it
    stood at 0 and nothing was published until the stop (a flood of 400,000 calls, none
    shown live). strace's stamps rise in its pipe: the last whole line read bounds what
    is still unread."""
    import os
    import time

    from ipcviz.sources.strace import source as S

    src = S.StraceSource(["./p"], [], str(tmp_path / "strace.fifo"))
    writer = os.open(src.fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        t0 = time.time() - 1.0
        stamps = [t0 + k * 1e-5 for k in range(3000)]  # 150 kB: more than one read
        text = "".join(f"1  {t:.6f} close(0</dev/null>) = 0 <0.000001>\n" for t in stamps)
        os.write(writer, text.encode())
        assert src.read(limit=4096)  # more waiting: the pipe was not emptied
        us = [int(f"{t:.6f}".replace(".", "")) for t in stamps]  # as strace printed them
        read_us, unread = us[src.lines - 1], us[src.lines :]
        assert unread and src.horizon == read_us * 1000 - src.offset
        while src.read(limit=4096):
            assert src.horizon >= read_us * 1000 - src.offset  # it never goes back
        assert src.horizon > int(stamps[-1] * 1e9) - src.offset  # emptied: the read's time
    finally:
        os.close(writer)
        src.close()


@contextlib.contextmanager
def _strace_lines(tmp_path):
    """A ``StraceSource`` on its real FIFO, and ``feed(*lines)``: strace's lines written
    into it, then read (one second ago on strace's clock: ``t``)."""
    import os
    import time

    from ipcviz.sources.strace import source as S

    src = S.StraceSource(["./p"], [], str(tmp_path / "strace.fifo"))
    writer = os.open(src.fifo, os.O_WRONLY | os.O_NONBLOCK)

    def feed(*lines: str) -> None:
        os.write(writer, "".join(f"{line}\n" for line in lines).encode())
        src.read()

    try:
        yield src, feed, time.time() - 1.0
    finally:
        os.close(writer)
        src.close()


def test_a_process_is_stopped_once_strace_showed_each_of_its_threads_stopped(tmp_path) -> None:
    """``ProgramEngine._end_program_first`` (and ``k``) kills a process only once strace
    showed every live thread of it stopped after ipcviz's SIGSTOP (``Mapper.all_stopped``):
    a sibling thread still began a call after the leader's ``--- SIGSTOP`` line (the
    review's finding), and a stop shown before, the program's own, says nothing of now (a
    SIGCONT it blocked is never shown: the attack's finding). A thread that ended, or
    that an execve superseded, is not waited for."""
    flags = "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM"
    with _strace_lines(tmp_path) as (src, feed, t):
        us = int(t * 1e6)
        feed(
            f'1  {t:.6f} execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  {t + 0.01:.6f} clone(child_stack=0x1, flags={flags}) = 2 <0.000020>",
            f"3  {t + 0.015:.6f} close(8) = 0 <0.000001>",  # (before its clone returns)
            f"1  {t + 0.016:.6f} clone(child_stack=0x1, flags={flags}) = 3 <0.000020>",
            f"2  {t + 0.02:.6f} close(9) = 0 <0.000001>",
            f"2  {t + 0.05:.6f} --- stopped by SIGSTOP ---",  # the program's own stop
        )
        asked = us + 100_000  # ipcviz's SIGSTOP
        feed(
            f"1  {t + 0.10:.6f} --- SIGSTOP {{si_signo=SIGSTOP, si_code=SI_USER, si_pid=9}} ---",
            f"1  {t + 0.11:.6f} --- stopped by SIGSTOP ---",
            f"3  {t + 0.115:.6f} --- stopped by SIGSTOP ---",
        )
        assert src.mapper.unended() == [1]
        assert not src.mapper.all_stopped(1, asked)  # thread 2's stop is from before
        feed(f"2  {t + 0.12:.6f} --- stopped by SIGSTOP ---")
        assert src.mapper.all_stopped(1, asked)
        asked = us + 200_000  # a second SIGSTOP: each stop again
        feed(f"2  {t + 0.30:.6f} +++ exited with 0 +++")
        feed(f"3  {t + 0.31:.6f} +++ superseded by execve in pid 1 +++")
        feed(f"1  {t + 0.32:.6f} --- stopped by SIGSTOP ---")
        assert src.mapper.all_stopped(1, asked)  # threads that ended are not waited for


def test_a_vfork_child_that_writes_for_long_is_named_the_vforks_child(tmp_path) -> None:
    """A vfork's parent returns only when its child execs or ends, and a child's lines
    wait for the fork that names it. A child that wrote a pipe for seconds first was
    nobody's all that while: its writes out of the pool (the reader's reads: thousands of
    ``order.conflict``), publishing held back behind them, and the end neither stopped
    nor killed it (the attack's finding). After ``VFORK_ADOPT_US`` of its lines it is the
    child of the one vfork under way; with two under way it still waits."""
    from ipcviz.sources.strace import mapper as M

    late = M.VFORK_ADOPT_US / 1e6 + 0.01
    with _strace_lines(tmp_path) as (src, feed, t):
        feed(
            f'1  {t:.6f} execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>',
            f"1  {t + 0.001:.6f} vfork( <unfinished ...>",
            f"2  {t + 0.002:.6f} close(9) = 0 <0.000001>",
        )
        assert 2 not in src.mapper.procs  # (a fork's own return comes in microseconds)
        feed(f"2  {t + 0.002 + late:.6f} close(8) = 0 <0.000001>")
        assert src.mapper.procs[2].pid == 2 and 2 in src.mapper.unended()
        start = [a for a in src.mapper.out if a[0] == "start" and a[1] == 2]
        assert start and start[0][4]["parent"] == 1
        # two vforks under way: whose child it is cannot be told; it waits
        feed(
            f"2  {t + 0.2:.6f} vfork( <unfinished ...>",
            f"1  {t + 0.201:.6f} vfork( <unfinished ...>",
            f"5  {t + 0.202:.6f} close(9) = 0 <0.000001>",
            f"5  {t + 0.202 + late:.6f} close(8) = 0 <0.000001>",
        )
        assert 5 not in src.mapper.procs


def test_a_receive_whose_type_is_not_known_yet_is_told_without_one() -> None:
    """``later``: strace printed msgrcv's entry without its type (0 is "any type")."""
    from ipcviz.narrate.headless import Narrator

    n = Narrator({"format": "ipcviz-trace", "version": 1, "scenario": {"id": "x"}})
    n.feed({"t": 0, "seq": 0, "pid": 0, "kind": "obj.declare", "obj": "q", "type": "sysv_mq"})
    n.feed({"t": 0, "seq": 1, "pid": 5, "kind": "proc.start", "name": "p"})
    begin = {"t": 1, "seq": 2, "pid": 5, "kind": "mq.recv.begin", "obj": "q", "want": 0}
    assert n.feed({**begin, "later": 1})[-1].endswith("receives from q…")
    assert n.feed({**begin, "seq": 3})[-1].endswith("receives from q (any type)…")


def _held_back_lines(tmp_path, tail: str, limit: int = 1 << 20):
    """A child's lines printed before its parent's fork returned (``Mapper._waiting``),
    stamped a second ago, then ``tail``: the source after one read."""
    import os
    import time

    from ipcviz.sources.strace import source as S

    src = S.StraceSource(["./p"], [], str(tmp_path / "strace.fifo"))
    writer = os.open(src.fifo, os.O_WRONLY | os.O_NONBLOCK)
    t = time.time() - 1.0
    child = t + 0.003
    text = (
        f'1  {t:.6f} execve("{x("./p")}", ["{x("./p")}"], 0x1 /* 1 vars */) = 0 <0.000001>\n'
        f"1  {t + 0.001:.6f} msgget(IPC_PRIVATE, IPC_CREAT|0600) = 7 <0.000005>\n"
        f"1  {t + 0.002:.6f} clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>\n"
        f'2  {child:.6f} msgsnd(7, {{mtype=1, mtext="{x("a")}"}}, 1, 0) = 0 <0.000005>\n'
        f"2  {t + 0.004:.6f} close(0</dev/null>) = 0 <0.000001>\n"
        + "".join(
            f"3  {t + 0.005 + k * 1e-4:.6f} close(0</dev/null>) = 0 <0.000001>\n"
            for k in range(2000)
        )
        + tail.format(t=t)
    )
    os.write(writer, text.encode())
    more = src.read(limit=limit)
    os.close(writer)
    return src, more, src.mapper._entry_ns(int(f"{child:.6f}".replace(".", "")))


def test_a_childs_lines_held_for_its_fork_hold_the_horizon(tmp_path) -> None:
    """A child's calls printed before its parent's fork returned are read, but kept back
    until that fork names the child (``Mapper._waiting``): they are not in the pool. The
    horizon said every line before it was read, so the engine published what ended up to
    30 ms before it (another process's send, say) while the child's earlier send, ended
    long before, was still held back: it then had to go before what was published. The
    horizon stops at the first line held back while a fork is under way, on a read that
    empties the pipe and on one that stops at its limit alike."""
    from ipcviz.engine.drain import HOLD_NS

    for limit in (1 << 20, 4096):  # the pipe emptied; a read stopped at its limit
        (tmp_path / str(limit)).mkdir()
        src, more, held = _held_back_lines(tmp_path / str(limit), "", limit)
        try:
            assert more == (limit == 4096)
            assert 2 in src.mapper._waiting and 2 not in src.mapper.procs
            assert src.horizon - HOLD_NS < held, (src.horizon - held) / 1e6
        finally:
            src.close()


def test_the_horizon_moves_on_once_the_fork_returned_or_its_process_died(tmp_path) -> None:
    """The child named (or its parent killed in the fork: nothing will name it), the
    horizon is the read's again."""
    for name, tail in (
        ("named", "1  {t:.6f} <... clone resumed>) = 2 <0.000100>\n"),
        ("killed", "1  {t:.6f} <... clone resumed>) = ?\n1  {t:.6f} +++ killed by SIGKILL +++\n"),
    ):
        (tmp_path / name).mkdir()
        src, more, held = _held_back_lines(tmp_path / name, tail)
        try:
            assert not more and src.horizon > held + 500_000_000
        finally:
            src.close()


def _maybe_made(tail: str) -> Mapper:
    """A queue of 2 opened with O_CREAT alone where what existed before is not known
    (``mq_existing`` None: no /dev/mqueue), then ``tail``'s lines."""
    from tests.anyprog.strace_text import Q

    head = (
        f'26693 1795996295.808852 mq_open("{x("s2t")}", O_RDWR|O_CREAT|O_NONBLOCK, 0600, '
        "{mq_flags=0, mq_maxmsg=2, mq_msgsize=16, mq_curmsgs=0}) = 3<{Q}> <0.000029>\n"
    ).replace("{Q}", Q)
    m = Mapper([], "prog", ["./prog"])
    for line in (head + tail.replace("{Q}", Q)).splitlines():
        parsed = P.parse_line(line)
        if parsed is not None:
            m.feed(parsed)
    m.finish()
    return m


_SEND = '26693 1795996295.8{us} mq_timedsend(3<{Q}>, "' + x("m") + '", 1, 0, NULL) = {ret}\n'


def _send(us: str, ret: str) -> str:
    return _SEND.replace("{us}", us).replace("{ret}", ret)


def test_a_refusal_the_traced_calls_do_not_explain_says_the_queue_was_there_before() -> None:
    """Its only holder's send refused with nothing traced in it: the queue held messages no
    call showed (there before the run). A notice (unseen-contents: ``outside``) comes
    before the refusal; one the traced calls explain (full after two sends) has none."""
    refused = "-1 EAGAIN (Resource temporarily unavailable) <0.000003>"
    got = [g[1] for g in kinds(_maybe_made(_send("09195", refused)))]
    assert got.count("notice") == 1 and got.index("notice") == got.index("mq.again") - 1
    sent = _send("09195", "0 <0.000003>") + _send("09295", "0 <0.000003>")
    got = [g[1] for g in kinds(_maybe_made(sent + _send("09395", refused)))]
    assert "notice" not in got and got.count("mq.again") == 1


def test_a_refusal_on_a_queue_another_process_holds_is_left_to_the_linearizer() -> None:
    """With another holder, strace's line order is not the kernel's: a receive refused on
    a queue the lines say holds a message may have come before that send. No notice
    (before: a false unseen-contents); the refusal goes on as it is."""

    fork = (
        "26693 1795996295.809000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|"
        "CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f4fa8675a10) = 26694 <0.000179>\n"
    )
    refused_recv = (
        "26694 1795996295.809300 mq_timedreceive(3<{Q}>, 0x7ffc00000000, 16, NULL, NULL)"
        " = -1 EAGAIN (Resource temporarily unavailable) <0.000003>\n"
    )
    got = [g[1] for g in kinds(_maybe_made(fork + _send("09195", "0 <0.000003>") + refused_recv))]
    assert "notice" not in got and got.count("mq.again") == 1


def test_a_refused_msgrcv_is_shown_with_its_type_unless_except_or_copy() -> None:
    """``msgrcv(…, IPC_NOWAIT) = -1 ENOMSG``: ``mq.again`` wanting the type asked for (the
    4th argument: a failed call prints its buffer as an address, which is no type). With
    MSG_EXCEPT (any type but that one) or MSG_COPY (a copy of the message at that index),
    the type is no type the rule could check: left out, as before."""
    made = "7 1795996295.800000 msgget(IPC_PRIVATE, IPC_CREAT|0600) = 42 <0.000010>\n"
    line = (
        "7 1795996295.800100 msgrcv(42, 0x7ffc929faf10, 8, 5, IPC_NOWAIT{more}) = -1 ENOMSG "
        "(No message of desired type) <0.000002>\n"
    )
    for more, shown in (("", [(0, 5)]), ("|MSG_EXCEPT", []), ("|MSG_COPY", [])):
        m, _ = run(made + line.replace("{more}", more))
        assert [(g[2], g[3]) for g in kinds(m) if g[1] == "mq.again"] == shown, more


def _opened_by_us(name: str, sizes: tuple[int, int], asked: str) -> list[dict]:
    """The declare of queue ``name`` (made here with ``sizes``, held by this process's
    descriptor) as the mapper makes it from a line saying this process opened it with
    O_CREAT alone, asking ``asked`` (what strace prints of the attributes); ``maybe``:
    whether it is named as maybe the program's if left behind."""
    import posix_ipc

    queue = posix_ipc.MessageQueue(
        name, posix_ipc.O_CREX, max_messages=sizes[0], max_message_size=sizes[1]
    )
    try:
        line = (
            f'{os.getpid()} 1795996295.808852 mq_open("{x(name[1:])}", '
            f"O_RDWR|O_CREAT|O_NONBLOCK, 0600, {asked}) = {queue.mqd}<{x(name)}> <0.000029>\n"
        )
        m = Mapper([], "prog", ["./prog"])
        m.feed(P.parse_line(line))
        m.finish()
        declared = [a[3] for a in m.out if a[0] == "event" and a[3]["kind"] == "obj.declare"]
        return [{**d, "maybe": name in m.mq_maybe_made} for d in declared]
    finally:
        queue.close()
        queue.unlink()


def test_a_queue_opened_with_o_creat_alone_is_told_by_its_own_sizes() -> None:
    """Where /dev/mqueue is not mounted, nothing said whether a queue opened with O_CREAT
    alone was there before the run: it was declared with the sizes its call asked for,
    as one that may be new. The queue's own sizes are read now (by its name, if it is the
    queue the descriptor holds): other sizes than asked say it was there already
    (``outside``: found, not made); the same ones decide nothing; with no attributes asked,
    the sizes are the queue's, not none."""
    name = f"/ipcviz-test-sizes-{os.getpid()}"
    asked = "{mq_flags=0, mq_maxmsg=2, mq_msgsize=16, mq_curmsgs=0}"
    other = _opened_by_us(name, (3, 32), asked)
    assert [(d["max_messages"], d["max_message_size"], d.get("outside")) for d in other] == [
        (3, 32, True)
    ]
    assert not other[0]["maybe"]  # (not the program's: not named if left)
    alike = _opened_by_us(name, (2, 16), asked)
    assert [(d["max_messages"], d["max_message_size"], d.get("outside")) for d in alike] == [
        (2, 16, None)
    ]
    assert alike[0]["discovered"] and alike[0]["maybe"]  # (QueueObj.maybe_filled)
    unasked = _opened_by_us(name, (3, 32), "NULL")
    assert [(d["max_messages"], d["max_message_size"], d.get("outside")) for d in unasked] == [
        (3, 32, None)
    ]


def test_an_unlinked_fifo_another_strace_may_hold_is_not_removed() -> None:
    """Two straces (a scenario's commands) share their objects: the FIFO one made and
    unlinked is still open in the other's process, which this mapper does not see, so it
    is not gone (a removal here showed the other's writes on a removed FIFO)."""
    f, tmp = x("/tmp/f"), x("/tmp")
    mine = f"""\
10  1.000001 mknodat(AT_FDCWD<{tmp}>, "{f}", S_IFIFO|0600) = 0 <0.000010>
10  1.000020 openat(AT_FDCWD<{tmp}>, "{f}", O_RDONLY|O_NONBLOCK) = 3<{f}> <0.000010>
10  1.000060 close(3<{f}>) = 0 <0.000005>
10  1.000070 unlink("{f}") = 0 <0.000005>
"""
    other = f'20  1.000040 openat(AT_FDCWD<{tmp}>, "{f}", O_WRONLY) = 3<{f}> <0.000010>\n'
    names: list[str] = []
    m, m2 = Mapper(names, "one", ["./one"]), Mapper(names, "two", ["./two"])
    m2.objects_of(m)
    lines = mine.splitlines()
    for mapper, line in ((m, lines[0]), (m, lines[1]), (m2, other), (m, lines[2]), (m, lines[3])):
        mapper.feed(P.parse_line(line))
    m.finish()
    m2.finish()
    assert "obj.remove" not in [a[3]["kind"] for a in m.out + m2.out if a[0] == "event"]
    assert m2.procs[20].fds[3][0] == names.index("/tmp/f")  # (the other holds it)
