"""Pipes as the model sees them: the ``pipe.*`` kinds, shared with FIFOs (``fifo``).

A pipe is a byte stream: writes append, reads take the oldest bytes, and the kernel keeps no
boundaries between writes (T4). The model keeps who wrote each chunk and which processes
hold each end, so a reader sees EOF once every writer let go (T12).
"""

from __future__ import annotations

from typing import Any

from ipcviz.events.codec import payload
from ipcviz.events.fields import Kind, count, integer, one_of, payload_within
from ipcviz.i18n import Lazy, lazy
from ipcviz.mechanisms.base import Family
from ipcviz.mechanisms.pipe.state import PipeObj
from ipcviz.mechanisms.pipe.words import WORDS
from ipcviz.model.ops import PAYLOAD_KEPT, begin, changed, done, given_back, made_up
from ipcviz.model.state import Obj, State

Event = dict[str, Any]

#: Writes up to this size are atomic in a pipe (POSIX PIPE_BUF on Linux); larger ones may
#: be split by the kernel when the buffer has less room than they need.
PIPE_BUF = 4096


# -- reducer handlers ------------------------------------------------------------------


def _pipe_begin(s: State, e: Event) -> None:
    begin(s, e)


def _pipe_open(s: State, e: Event) -> None:
    done(s, e)
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        (obj.readers if e.get("end") == 0 else obj.writers).add(e["pid"])


def _pipe_write(s: State, e: Event) -> None:
    done(s, e)
    obj = s.objects[e["obj"]]
    assert isinstance(obj, PipeObj)
    data = payload(e)
    n = e["n"]
    known = len(data)  # (the rest, if any, was not recorded: made up as zeros)
    if len(data) < n or e.get("size", 0) > PAYLOAD_KEPT:  # a write the tracer cut: where
        obj.unsure = True  # its pieces went among other writers' bytes is not known
    if len(data) < n:  # payload cut by the tracer: keep the count honest
        data = made_up(s, e, data, n)
    obj.written += n
    obj.writes += 1
    changed(obj, e)
    if obj.unexplained:  # an outside pipe's read already took (some of) these bytes
        used = _common_start(obj.unexplained, data)
        obj.unexplained = obj.unexplained[used:]
        obj.from_outside -= used
        data = data[used:]
        known -= used
    if obj.deficit:  # a reader already took (some of) these bytes
        used = min(obj.deficit, n)
        obj.deficit -= used
        data = data[used:]
        known -= used
    if data:
        known = max(0, known)
        obj.chunks.append([e["pid"], data] if known >= len(data) else [e["pid"], data, known])
        obj.nbytes += len(data)
    if obj.outside and obj.nbytes > obj.capacity:
        # a process ipcviz does not watch read the oldest traced bytes meanwhile (the
        # reader of a pipeline whose writer alone is watched): they left the pipe
        excess = obj.nbytes - obj.capacity
        _drop_front(obj, excess)
        obj.nbytes -= excess
        given_back(s, obj)  # (as a read's: made-up bytes it held may be among them)
        obj.gone = [k - excess for k in obj.gone if k > excess]


def _pipe_read(s: State, e: Event) -> None:
    done(s, e)
    obj = s.objects[e["obj"]]
    assert isinstance(obj, PipeObj)
    if obj.gone:
        _decide(s, obj, e)
    n = e["n"]
    if n == 0:
        obj.eof = True
        return
    obj.read += n
    changed(obj, e)
    if obj.outside:
        _outside_read(s, obj, e, n)
    else:
        take = min(n, obj.nbytes)
        obj.deficit += n - take
        obj.nbytes -= take
        given_back(s, obj)
        _drop_front(obj, take)
        if not obj.nbytes:  # emptied: what it holds is known again
            obj.unsure = False
    if obj.gone:  # a world this read left: each still starts within what is held
        obj.gone = [k for k in obj.gone if k <= obj.nbytes]


def _drop_front(obj: PipeObj, take: int) -> None:
    """The first ``take`` bytes of the model's chunks go (the caller counts them)."""
    while take:
        chunk = obj.chunks[0]
        if len(chunk[1]) <= take:
            take -= len(chunk[1])
            obj.chunks.popleft()
        else:
            chunk[1] = chunk[1][take:]
            if len(chunk) > 2:  # (its first bytes recorded, the rest not)
                chunk[2] = max(0, chunk[2] - take)
            take = 0


def _decide(s: State, obj: PipeObj, e: Event) -> None:
    """A read of a FIFO whose front bytes may be gone (``PipeObj.gone``): the worlds it is
    legal in stay. If keeping every byte is not one of them, the bytes were freed at the
    last close: the model drops them (the kernel did). A read no world explains was said
    as a conflict: the model keeps what it holds, as for any pipe.

    Each world's buffer ends like the longest one, so after a read of ``n`` bytes legal in
    world ``k`` (it took ``n`` of the ``nbytes - k`` there) world ``k`` still starts ``k``
    bytes into what is left: the offsets stay, less the bytes dropped."""
    worlds = [k for k in (0, *obj.gone) if _read_why(obj, e, k) is None]
    if not worlds:
        obj.gone = []
        return
    first = worlds[0]
    obj.gone = [k - first for k in worlds[1:]]
    if first:
        _drop_front(obj, first)
        obj.nbytes -= first
        obj.dropped += first
        obj.dropped_seq, obj.dropped_last = e.get("seq", -1), first
        changed(obj, e)
        given_back(s, obj)


def _outside_read(s: State, obj: PipeObj, e: Event, n: int) -> None:
    """A read from a pipe that may hold bytes no event shows: those come first (written
    before the attach, or by a process not watched), then the traced ones. The traced
    bytes taken are the longest start of the buffer the read ends with; the rest came
    from outside. Without the read's bytes, the traced ones go first."""
    data = payload(e)[:n]
    known = min(n, obj.nbytes)
    if len(data) == n and known and not starts_with(obj, data[n - known :]):
        known = _overlap(data, _head(obj, known))  # it straddles: the rare, slower case
    obj.from_outside += n - known
    # the bytes this read took from outside: a traced write placed right after it (both
    # in flight at once) explains them (only this read's: a pipe holds no more at once)
    obj.unexplained = data[: n - known] if len(data) == n else bytes(n - known)
    obj.nbytes -= known
    given_back(s, obj)
    _drop_front(obj, known)


def _head(obj: PipeObj, n: int) -> bytes:
    """The first ``n`` bytes the model knows in the pipe."""
    out, need = [], n
    for chunk in obj.chunks:
        if need <= 0:
            break
        out.append(chunk[1][:need])
        need -= len(out[-1])
    return b"".join(out)


def _overlap(data: bytes, head: bytes) -> int:
    """The length of the longest end of ``data`` that is a start of ``head`` (a
    Knuth-Morris-Pratt pass: linear, whatever the bytes are)."""
    fail = [0] * len(head)
    k = 0
    for i in range(1, len(head)):
        while k and head[i] != head[k]:
            k = fail[k - 1]
        if head[i] == head[k]:
            k += 1
        fail[i] = k
    k = 0
    for byte in data:
        while k and (k == len(head) or byte != head[k]):
            k = fail[k - 1]
        if k < len(head) and byte == head[k]:
            k += 1
    return k


def _common_start(a: bytes, b: bytes) -> int:
    """How many bytes ``a`` and ``b`` share at their start (bisected: compares in C)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _pipe_close(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        let_go(obj, e)


def let_go(obj: PipeObj, e: Event) -> None:
    """Process ``e["pid"]`` holds end ``e["end"]`` of the pipe no more: a close seen, or one
    said not seen (a ``notice``, ``attach-let-go``: before strace held the process)."""
    (obj.readers if e.get("end") == 0 else obj.writers).discard(e["pid"])
    _last_close(obj, e.get("t", -1), e.get("seq", -1))


def _last_close(obj: PipeObj, t: int, seq: int) -> None:
    """A FIFO's last open end closed: the kernel frees the pipe behind the name, and its
    bytes with it (fs/pipe.c ``put_pipe_info``), unless some process is inside ``open()``
    of it then: ``fifo_open`` counts an opener before it waits for its partner, so its
    open keeps the pipe. The events cannot always tell (a blocking open's begin is often
    folded into its end, and a begin stamped before the close may enter the kernel after
    it), so the bytes are kept, marked as possibly gone (``PipeObj.gone``): the next read
    or end of file decides. An anonymous pipe nobody holds is never read again."""
    if not obj.named or obj.readers or obj.writers or obj.nbytes <= 0:
        return
    if obj.gone and obj.gone[-1] >= obj.nbytes:
        return  # every byte may already be gone
    obj.gone.append(obj.nbytes)
    if len(obj.gone) > MAX_CUTS:
        del obj.gone[0]  # (the oldest cut: see MAX_CUTS)
    obj.gone_t, obj.gone_seq = t, seq


#: Most cut points a FIFO keeps (``PipeObj.gone``): every read checks each. A real program
#: cannot come near it (each needs both ends closed on unread bytes, with no read between),
#: but a hand-made trace of thousands made ``verify`` and replay take minutes.
MAX_CUTS = 64


def _pipe_epipe(s: State, e: Event) -> None:
    done(s, e)
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        obj.epipe += 1


# -- legal history ---------------------------------------------------------------------


def _legal_write(obj: PipeObj, e: Event) -> Lazy | None:
    """Room as in the world with the most of it: a FIFO's bytes that may be gone since its
    last close (``PipeObj.gone``) take none there. An ``outside`` pipe's room is not known:
    a process ipcviz does not watch may have read what the trace shows written."""
    if obj.outside:
        return None
    n = e.get("n", 0)
    room = obj.room()
    if n > room:
        return lazy("write of {n} B into a pipe with {room} B of room", n=n, room=room)
    return None


def _legal_read(obj: PipeObj, e: Event) -> Lazy | None:
    """Legal if it is in some world: all bytes kept, or (a FIFO after its last close)
    the first ``k`` gone for some ``k`` in ``PipeObj.gone``. The reason given is the
    all-kept world's."""
    why = _read_why(obj, e, 0)
    if why is not None and obj.gone and any(_read_why(obj, e, k) is None for k in obj.gone):
        return None
    return why


def _read_why(obj: PipeObj, e: Event, skip: int) -> Lazy | None:
    """Why the read could not be, were the pipe's first ``skip`` bytes gone."""
    n = e.get("n", 0)
    if obj.outside and n:  # any bytes may have been there: only the traced ones are known
        return None
    held = obj.nbytes - skip
    if n == 0:
        if held and not obj.outside:  # (outside: an unwatched reader may have taken them)
            return lazy("end of file read while {n} B were waiting", n=held)
        if obj.writers:
            return lazy("end of file read while a writer still held the write end")
        return None
    if n > held:
        return lazy("read of {n} B from a pipe holding {held} B", n=n, held=held)
    data = payload(e)[:n]
    if obj.unsure:  # bytes past a tracer's cut may be among them: the count above is
        return None  # what is known
    if data and not starts_with(obj, data, skip):
        return lazy("read returned bytes other than the next ones in the pipe")
    return None


def starts_with(obj: PipeObj, data: bytes, skip: int = 0) -> bool:
    """Whether the pipe's buffer, less its first ``skip`` bytes, begins with ``data``
    (compared chunk by chunk, no join)."""
    pos = 0
    for chunk in obj.chunks:
        if skip:
            if len(chunk[1]) <= skip:
                skip -= len(chunk[1])
                continue
            part = chunk[1][skip : skip + len(data) - pos]
            skip = 0
        else:
            part = chunk[1][: len(data) - pos]
        if data[pos : pos + len(part)] != part:
            return False
        pos += len(part)
        if pos >= len(data):
            return True
    return pos >= len(data)


def _legal_epipe(obj: PipeObj, e: Event) -> Lazy | None:
    return lazy("EPIPE while a reader still held the read end") if obj.readers else None


# -- declare and process hooks ---------------------------------------------------------


def declare_capacity(s: State, obj: Obj, e: Event) -> None:
    """A pipe or FIFO of the capacity the kernel gave it."""
    assert isinstance(obj, PipeObj)
    obj.capacity = e.get("capacity", 65536)


def declare_named(s: State, obj: Obj, e: Event) -> None:
    """A named pipe (opened by its path): its last close may free its bytes."""
    declare_capacity(s, obj, e)
    assert isinstance(obj, PipeObj)
    obj.named = True
    held_ends(s, obj, e)


def held_ends(s: State, obj: PipeObj, e: Event) -> None:
    """A pipe found open at ``ipcviz attach``: the watched processes that held each end
    then (``reader_pids``, ``writer_pids``) hold it in the model too. Without them an
    end of file was legal while a watched writer still held the write end, and it was
    shown before that writer's close (an ``outside`` pipe's reads are checked for nothing
    else). Processes ipcviz does not watch are not counted: their close is never seen."""
    for pid in e.get("reader_pids") or ():
        if pid in s.procs:
            obj.readers.add(pid)
    for pid in e.get("writer_pids") or ():
        if pid in s.procs:
            obj.writers.add(pid)


def declare(s: State, obj: Obj, e: Event) -> None:
    """An anonymous pipe; made by a process (in-worker ``os.pipe``): it holds both ends."""
    declare_capacity(s, obj, e)
    assert isinstance(obj, PipeObj)
    if e.get("pid") in s.procs:
        obj.readers.add(e["pid"])
        obj.writers.add(e["pid"])
    held_ends(s, obj, e)


def on_proc_start(s: State, obj: Obj, e: Event) -> None:
    """Forked by a worker: it holds the pipe ends its parent held (T7); else the scenario
    said which processes use each end (every process when it did not say)."""
    assert isinstance(obj, PipeObj)
    if e.get("parent") in s.procs:
        inherit_ends(s, obj, e)
        return
    pid = e["pid"]
    readers, writers = obj.info.get("readers") or [], obj.info.get("writers") or []
    if not readers or e["name"] in readers:
        obj.readers.add(pid)
    if not writers or e["name"] in writers:
        obj.writers.add(pid)


def inherit_ends(s: State, obj: Obj, e: Event) -> None:
    """A forked child holds the ends its parent held, a FIFO's as a pipe's: fork copies
    every descriptor (a FIFO is held otherwise only through an ``open()`` of its path).
    Without it the parent's close would look like the last one, and an end of file could
    be shown while the child still holds the write end."""
    assert isinstance(obj, PipeObj)
    pid, parent = e["pid"], e.get("parent")
    if parent in obj.readers:
        obj.readers.add(pid)
    if parent in obj.writers:
        obj.writers.add(pid)


def on_proc_exit(obj: Obj, pid: int) -> None:
    """The kernel closes every descriptor of a dead process (a FIFO's last one may free
    its bytes: ``_last_close``; when is the exit's, which this hook is not told)."""
    assert isinstance(obj, PipeObj)
    if pid in obj.readers or pid in obj.writers:
        obj.readers.discard(pid)
        obj.writers.discard(pid)
        _last_close(obj, -1, -1)


_END = one_of(0, 1)  # tracer.codes READ_END, WRITE_END
#: The kernel's view of a pipe (engine/probing.py): bytes in it, and its capacity.
PROBE_FIELDS = {"nbytes": integer(), "capacity": integer()}

FAMILY = Family(
    name="pipe",
    kinds={
        "pipe.write.begin": Kind({"n": count}),
        "pipe.write": Kind({"n": count, "size": count}, ("obj", "n"), payload_within("n")),
        "pipe.read.begin": Kind({"max": count}),
        "pipe.read": Kind({"n": count, "max": count}, ("obj", "n"), payload_within("n")),
        "pipe.open.begin": Kind({"end": _END}),
        "pipe.open": Kind({"end": _END, "fd": integer()}),
        "pipe.close": Kind({"end": _END}),
        "pipe.epipe": Kind({"n": count}),
    },
    state=PipeObj,
    view="ipcviz.mechanisms.pipe.view",
    words=WORDS,
    completes={
        "pipe.write": ("pipe.write", "pipe.epipe"),
        "pipe.read": ("pipe.read",),
        "pipe.open": ("pipe.open",),
    },
    slices=frozenset({"pipe.write", "pipe.read", "pipe.epipe"}),
    counter=("bytes", lambda obj: obj.nbytes),
    flows={"pipe.write": (True, False), "pipe.read": (False, False)},
    verbs={
        "pipe.write.begin": "write",
        "pipe.write": "write",
        "pipe.epipe": "write",
        "pipe.read.begin": "read",
        "pipe.read": "read",
    },
    puts=frozenset({"write"}),
    diagram="ipcviz.mechanisms.pipe.diagram",
    handlers={
        "pipe.write.begin": _pipe_begin,
        "pipe.read.begin": _pipe_begin,
        "pipe.open.begin": _pipe_begin,
        "pipe.open": _pipe_open,
        "pipe.write": _pipe_write,
        "pipe.read": _pipe_read,
        "pipe.close": _pipe_close,
        "pipe.epipe": _pipe_epipe,
    },
    rules={"pipe.write": _legal_write, "pipe.read": _legal_read, "pipe.epipe": _legal_epipe},
    # a refused write changes nothing another operation's rule reads (its count is only
    # shown): placed first wherever it is legal, it goes in the moment no reader held the
    # end, before a reader's next open made it impossible (FIFO readers that close and
    # reopen: an order.conflict in 1 run of 3, the review's finding)
    observers=frozenset({"pipe.epipe"}),
    refers=frozenset({"pipe.write", "pipe.read"}),
    quiet_waits=frozenset({"pipe.read", "pipe.open"}),
)
