"""A POSIX queue or a FIFO unlinked and made again under the same name while the old one is
still open is two objects in the kernel: the old one lives on for the descriptors that hold
it. ipcviz shows two (the new one as ``NAME (2)``) and routes each descriptor's operations
to the one it opened. One process, in program order: no timing decides anything."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tests.anyprog.test_programs import compile_c, needs_tools, said, watch

#: argv[1]: a queue name, argv[2]: a FIFO path, argv[3] "x": the queues made with O_EXCL.
#: Each object gets one byte ("A" the old one, "B" the new one); the new one is read
#: first, then the old one through its descriptor kept across the unlink.
RECREATED = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct mq_attr a = {0, 4, 16, 0};
    int ex = argc > 3 ? O_EXCL : 0;
    char m[16], c;
    mqd_t q1 = mq_open(argv[1], O_CREAT | ex | O_RDWR, 0600, &a);
    if (q1 < 0 || mq_send(q1, "A", 1, 0) < 0 || mq_unlink(argv[1]) < 0)
        return 1;
    mqd_t q2 = mq_open(argv[1], O_CREAT | ex | O_RDWR, 0600, &a);
    if (q2 < 0 || mq_send(q2, "B", 1, 0) < 0)
        return 1;
    if (mq_receive(q2, m, 16, NULL) != 1)
        return 1;
    printf("Q new %c\n", m[0]);
    if (mq_receive(q1, m, 16, NULL) != 1)
        return 1;
    printf("Q old %c\n", m[0]);
    mq_close(q1);
    mq_close(q2);
    mq_unlink(argv[1]);

    const char *p = argv[2];
    if (mkfifo(p, 0600) < 0)
        return 1;
    int r1 = open(p, O_RDONLY | O_NONBLOCK), w1 = open(p, O_WRONLY);
    if (r1 < 0 || w1 < 0 || write(w1, "A", 1) != 1 || close(w1) < 0 || unlink(p) < 0)
        return 1;
    if (mkfifo(p, 0600) < 0)
        return 1;
    int r2 = open(p, O_RDONLY | O_NONBLOCK), w2 = open(p, O_WRONLY);
    if (r2 < 0 || w2 < 0 || write(w2, "B", 1) != 1 || close(w2) < 0)
        return 1;
    if (read(r2, &c, 1) != 1)
        return 1;
    printf("F new %c\n", c);
    if (read(r1, &c, 1) != 1)
        return 1;
    printf("F old %c\n", c);
    close(r1);
    close(r2);
    unlink(p);
    fflush(stdout);
    return 0;
}
"""


def _check(tmp_path: Path, *more: str) -> None:
    binary = compile_c(tmp_path, "recreated", RECREATED, "-lrt")
    queue = f"/ipcviz-test-recreated-{os.getpid()}"
    fifo = str(tmp_path / "fifo")
    _, events = watch(tmp_path, binary, queue, fifo, *more)  # (verify: a legal history)
    assert [w[:3] for w in said(events)] == [
        ["Q", "new", "B"], ["Q", "old", "A"], ["F", "new", "B"], ["F", "old", "A"],
    ]  # fmt: skip
    assert not any(e["kind"] == "order.conflict" for e in events)
    old_q, new_q = f"mq:{queue}", f"mq:{queue} (2)"
    old_f, new_f = fifo, f"{fifo} (2)"
    declared = [e["obj"] for e in events if e["kind"] == "obj.declare"]
    assert declared == [old_q, new_q, old_f, new_f]
    # each byte where the program put it and took it from, from the descriptor it used
    moved = [
        (e["kind"], e["obj"], e.get("n"))
        for e in events
        if e["kind"] in ("mq.send", "mq.recv", "pipe.write", "pipe.read")
    ]
    assert moved == [
        ("mq.send", old_q, None), ("mq.send", new_q, None),
        ("mq.recv", new_q, None), ("mq.recv", old_q, None),
        ("pipe.write", old_f, 1), ("pipe.write", new_f, 1),
        ("pipe.read", new_f, 1), ("pipe.read", old_f, 1),
    ]  # fmt: skip
    # each is removed once, when its name is gone and its last descriptor closed
    removed = [e["obj"] for e in events if e["kind"] == "obj.remove"]
    assert sorted(removed) == sorted([old_q, new_q, old_f, new_f])


@needs_tools
def test_a_queue_and_a_fifo_made_again_under_their_names_are_new_objects(
    tmp_path: Path,
) -> None:
    """Before: one object each. The old queue's receive was an ``order.conflict`` ("receive
    from a queue with no message it could take") where O_EXCL said both were made, or hid
    behind a notice of unseen contents without it; the old FIFO's read was "read of 1 B
    from a pipe holding 0 B"."""
    _check(tmp_path)


@needs_tools
def test_queues_made_with_o_excl_again_under_their_name_are_new_objects(
    tmp_path: Path,
) -> None:
    _check(tmp_path, "x")


#: Twice: makes queue argv[1] and FIFO argv[2], passes a byte through each, closes and
#: unlinks them (nothing holds the old ones when the new ones are made).
TWICE = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct mq_attr a = {0, 4, 16, 0};
    char m[16];
    for (int k = 0; k < 2; k++) {
        mqd_t q = mq_open(argv[1], O_CREAT | O_RDWR, 0600, &a);
        if (q < 0 || mq_send(q, "x", 1, 0) < 0 || mq_receive(q, m, 16, NULL) != 1)
            return 1;
        if (mq_close(q) < 0 || mq_unlink(argv[1]) < 0 || mkfifo(argv[2], 0600) < 0)
            return 1;
        int r = open(argv[2], O_RDONLY | O_NONBLOCK), w = open(argv[2], O_WRONLY);
        if (r < 0 || w < 0 || write(w, "y", 1) != 1 || read(r, m, 1) != 1)
            return 1;
        if (close(w) < 0 || close(r) < 0 || unlink(argv[2]) < 0)
            return 1;
    }
    return 0;
}
"""


@needs_tools
def test_a_name_made_again_once_its_object_is_gone_is_shown_made_and_removed_again(
    tmp_path: Path,
) -> None:
    """Before: where /dev/mqueue is not mounted, the second queue was no new object (sends
    to a queue shown removed, its removal not shown); the FIFO was never shown removed, and
    made again it was "seen again". The name is free once its object is gone: used again."""
    binary = compile_c(tmp_path, "twice", TWICE, "-lrt")
    queue = f"/ipcviz-test-twice-{os.getpid()}"
    fifo = str(tmp_path / "fifo")
    _, events = watch(tmp_path, binary, queue, fifo)
    life = [
        (e["kind"], e["obj"])
        for e in events
        if e["kind"] in ("obj.declare", "obj.remove", "mq.send", "pipe.write")
    ]
    once = [
        ("obj.declare", f"mq:{queue}"), ("mq.send", f"mq:{queue}"), ("obj.remove", f"mq:{queue}"),
        ("obj.declare", fifo), ("pipe.write", fifo), ("obj.remove", fifo),
    ]  # fmt: skip
    assert life == once + once
    assert not any(e["kind"] == "order.conflict" for e in events)


#: Makes queue argv[1] and FIFO argv[2] (O_EXCL), unlinks each while still open, makes
#: each again and ends, leaving the new ones behind.
LEFT = r"""
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct mq_attr a = {0, 4, 16, 0};
    mqd_t q1 = mq_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600, &a);
    if (q1 < 0 || mq_unlink(argv[1]) < 0)
        return 1;
    if (mq_open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0600, &a) < 0 || mkfifo(argv[2], 0600) < 0)
        return 1;
    int r = open(argv[2], O_RDONLY | O_NONBLOCK);
    if (r < 0 || unlink(argv[2]) < 0 || mkfifo(argv[2], 0600) < 0)
        return 1;
    return 0;
}
"""


@needs_tools
def test_what_is_left_behind_is_named_as_the_object_still_there(tmp_path: Path) -> None:
    """The old queue and FIFO are gone with the program; what is left is each new one."""
    import posix_ipc

    binary = compile_c(tmp_path, "left", LEFT, "-lrt")
    queue = f"/ipcviz-test-left-{os.getpid()}"
    fifo = str(tmp_path / "fifo")
    try:
        _, events = watch(tmp_path, binary, queue, fifo)
    finally:
        with contextlib.suppress(posix_ipc.ExistentialError):
            posix_ipc.unlink_message_queue(queue)  # the test ran the program: its queue
    left = sorted((e["obj"], e["what"]) for e in events if e["kind"] == "program.leftover")
    assert left == [(f"{fifo} (2)", "FIFO"), (f"mq:{queue} (2)", "POSIX queue")]
    removed = [e["obj"] for e in events if e["kind"] == "obj.remove"]
    assert sorted(removed) == [fifo, f"mq:{queue}"]


#: A POSIX segment argv[1] and a named semaphore argv[2] (O_EXCL each), unlinked while
#: still mapped, made again (the semaphore with another value), then the old ones let go
#: first: the old one is gone then, the new one only at its own unlink and unmapping.
DEVSHM = r"""
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

static char *segment(const char *name)
{
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, 64) < 0)
        return MAP_FAILED;
    char *p = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p;
}

int main(int argc, char **argv)
{
    char *p1 = segment(argv[1]);
    if (p1 == MAP_FAILED || shm_unlink(argv[1]) < 0)
        return 1;
    char *p2 = segment(argv[1]);
    if (p2 == MAP_FAILED || munmap(p1, 64) < 0 || shm_unlink(argv[1]) < 0 || munmap(p2, 64) < 0)
        return 1;
    sem_t *s1 = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 1);
    if (s1 == SEM_FAILED || sem_unlink(argv[2]) < 0)
        return 1;
    sem_t *s2 = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 5);
    if (s2 == SEM_FAILED || sem_close(s1) < 0 || sem_unlink(argv[2]) < 0 || sem_close(s2) < 0)
        return 1;
    return 0;
}
"""


@needs_tools
def test_a_segment_and_a_named_semaphore_made_again_under_their_names_are_new_objects(
    tmp_path: Path,
) -> None:
    """Before: one object each (declared again under the same name), the old one's
    unmapping taken for the new one's (the mappings were kept by path), so the old one
    was never shown removed."""
    binary = compile_c(tmp_path, "devshm", DEVSHM, "-lrt")
    seg, sem = f"/ipcviz-test-reseg-{os.getpid()}", f"/ipcviz-test-resem-{os.getpid()}"
    _, events = watch(tmp_path, binary, seg, sem)
    life = [
        (e["kind"], e["obj"], e.get("value"))
        for e in events
        if e["kind"] in ("obj.declare", "obj.remove")
    ]
    assert life == [
        ("obj.declare", f"shm:{seg}", None), ("obj.declare", f"shm:{seg} (2)", None),
        ("obj.remove", f"shm:{seg}", None), ("obj.remove", f"shm:{seg} (2)", None),
        ("obj.declare", f"sem:{sem}", 1), ("obj.declare", f"sem:{sem} (2)", 5),
        ("obj.remove", f"sem:{sem}", None), ("obj.remove", f"sem:{sem} (2)", None),
    ]  # fmt: skip
