"""``apply(state, event)``: the one place where events change the model.

Deterministic: the state after event *i* depends only on the events up to *i*, so live view,
replay and step-back agree exactly. For speed it updates ``state`` in place and returns it;
take a copy (``timeline``) when an earlier state must be kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ipcviz.errors import TraceError
from ipcviz.events.codec import payload
from ipcviz.model.state import Check, Obj, PipeObj, Proc, QueueObj, SemObj, ShmObj, State

Event = dict[str, Any]
#: Largest shared-memory segment the model keeps a copy of (bytes).
MAX_SHM = 8 * 1024 * 1024
#: Zero bytes the model makes up, held at once over all pipes and queues, for payload
#: tails the tracer did not record (it keeps 256 KiB of each): counts stay honest without
#: the bytes. Real runs stay far below (a pipe holds 1 MiB at most unless root raised
#: pipe-max-size); a hostile trace asking for more (``"n": 2147479552`` and no data, line
#: after line) is refused in one line (TraceError) instead of costing gigabytes.
MAX_MADE_UP = 64 * 1024 * 1024
#: Largest value of a System V semaphore (Linux SEMVMX).
SEMVMX = 32767
Handler = Callable[[State, Event], None]
HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for k in kinds:
            HANDLERS[k] = fn
        return fn

    return register


def apply(state: State, event: Event) -> State:
    kind = event["kind"]
    state.seq = event["seq"]
    state.t = event["t"]
    state.count += 1
    state.kinds[kind] += 1
    handler = HANDLERS.get(kind)
    if handler is None and kind.startswith("probe."):
        handler = HANDLERS.get("probe.*")
    if handler is not None:
        handler(state, event)
    return state


def apply_all(state: State, events: Iterable[Event]) -> State:
    for e in events:
        apply(state, e)
    return state


# -- objects and processes --------------------------------------------------------------

OBJECT_CLASSES: dict[str, type[Obj]] = {
    "pipe": PipeObj,
    "fifo": PipeObj,
    "posix_shm": ShmObj,
    "posix_sem": SemObj,
    "sysv_sem": SemObj,
    "posix_mq": QueueObj,
    "sysv_mq": QueueObj,
}


@handles("obj.declare")
def _declare(s: State, e: Event) -> None:
    cls = OBJECT_CLASSES.get(e["type"], Obj)
    info = {k: v for k, v in e.items() if k not in ("t", "seq", "pid", "kind", "obj", "type")}
    obj = cls(
        name=e["obj"],
        type=e["type"],
        kernel_name=e.get("kernel_name", ""),
        declared_seq=e["seq"],
        info=info,
    )
    if isinstance(obj, PipeObj):
        obj.capacity = e.get("capacity", 65536)
        if obj.type == "pipe" and e.get("pid") in s.procs:  # made by a process: it holds both
            obj.readers.add(e["pid"])
            obj.writers.add(e["pid"])
    elif isinstance(obj, ShmObj):
        # A trace is untrusted input: model at most MAX_SHM bytes of a segment, whatever
        # size it declares (the wrappers never create more than 8 MiB).
        obj.size, obj.cell_size = min(int(e["size"]), MAX_SHM), max(1, int(e.get("cell_size", 8)))
        obj.cells = min(int(e["cells"]), obj.size // obj.cell_size)
        obj.data = bytearray(obj.size)
        obj.last_writer = [0] * obj.cells
        obj.changed_seq = [-1] * obj.cells
    elif isinstance(obj, SemObj):
        obj.initial = obj.value = e.get("value", 0)
        obj.undo = bool(e.get("undo"))
    elif isinstance(obj, QueueObj):
        obj.max_messages = e.get("max_messages", 0)
        obj.max_bytes = e.get("max_bytes", 0)
    s.objects[obj.name] = obj


@handles("obj.remove")
def _remove(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if obj:
        obj.removed = True


@handles("proc.start")
def _proc_start(s: State, e: Event) -> None:
    pid = e["pid"]
    s.procs[pid] = Proc(pid=pid, name=e["name"], color=e.get("color", len(s.procs)))
    parent = e.get("parent")
    for obj in s.objects.values():
        if isinstance(obj, PipeObj) and obj.type == "pipe" and parent in s.procs:
            # Forked by a worker: it holds the pipe ends its parent held (T7).
            if parent in obj.readers:
                obj.readers.add(pid)
            if parent in obj.writers:
                obj.writers.add(pid)
        elif isinstance(obj, PipeObj) and obj.type == "pipe":
            readers, writers = obj.info.get("readers") or [], obj.info.get("writers") or []
            if not readers or e["name"] in readers:
                obj.readers.add(pid)
            if not writers or e["name"] in writers:
                obj.writers.add(pid)


@handles("proc.exit")
def _proc_exit(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if p is None:
        return
    p.state, p.op, p.on = "exited", None, None
    p.exit_code, p.exit_signal = e.get("code"), e.get("signal")
    for obj in s.objects.values():  # the kernel closes every descriptor of a dead process
        if isinstance(obj, PipeObj):
            obj.readers.discard(p.pid)
            obj.writers.discard(p.pid)
        elif isinstance(obj, SemObj) and p.pid in obj.waiters:
            obj.waiters.remove(p.pid)
        elif isinstance(obj, QueueObj):
            for lst in (obj.senders_waiting, obj.receivers_waiting):
                if p.pid in lst:
                    lst.remove(p.pid)


@handles("proc.error")
def _proc_error(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    text = e.get("text", "")
    last = text.strip().splitlines()[-1] if text.strip() else "error"
    if p is not None:
        p.error = last
    s.errors.append(f"{s.proc_name(e['pid'])}: {last}")


@handles("narrate")
def _narrate(s: State, e: Event) -> None:
    s.step = e.get("step")
    s.step_pid = e["pid"]


@handles("report")
def _report(s: State, e: Event) -> None:
    s.reports.setdefault(s.proc_name(e["pid"]), {})[e["key"]] = e.get("value")


@handles("control")
def _control(s: State, e: Event) -> None:
    action = e.get("action")
    if action == "present":  # presenter mode: a narration step holds its process (gate.py)
        s.extra["present"] = bool(e.get("on"))
    if action == "step_mode":  # engine/gate.py: the gates close (on) or open (off)
        s.extra["step_mode"] = bool(e.get("on"))
        if not e.get("on"):
            for p in s.procs.values():
                p.gated_op = p.gated_obj = None
    if action in ("freeze", "resume"):
        s.frozen = action == "freeze"
        for p in s.procs.values():
            if p.alive:
                p.frozen = s.frozen


@handles("check")
def _check(s: State, e: Event) -> None:
    s.checks.append(Check(e["description"], bool(e["ok"]), e.get("detail", "")))


@handles("session.end")
def _end(s: State, e: Event) -> None:
    s.outcome = e.get("outcome")
    s.exit_code = e.get("exit_code")


@handles("error")
def _error(s: State, e: Event) -> None:
    s.errors.append(e.get("message", "error"))


@handles("tracer.stall")
def _stall(s: State, e: Event) -> None:
    s.stalls += e.get("count", 1)


@handles("drift")
def _drift(s: State, e: Event) -> None:
    if e.get("resolved"):
        s.drift.pop(e["obj"], None)
    else:
        s.drift[e["obj"]] = {k: v for k, v in e.items() if k not in ("t", "seq", "kind")}


@handles("probe.*")
def _probe(s: State, e: Event) -> None:
    """Kernel observations: stored beside the model's view, never mixed into it."""
    fields = {k: v for k, v in e.items() if k not in ("t", "seq", "kind", "obj", "pid")}
    fields["seq"], fields["t"] = e["seq"], e["t"]
    if "obj" in e:
        obj = s.objects.get(e["obj"])
        if obj is not None:
            obj.kernel = fields
    elif e.get("pid") and e["pid"] in s.procs:
        s.procs[e["pid"]].kernel = fields


def _changed(obj: Obj, e: Event) -> None:
    """The model changed what a kernel probe of ``obj`` shows: older probes are stale."""
    obj.last_change_seq, obj.last_change_t = e["seq"], e["t"]


# -- operations in progress ------------------------------------------------------------


def _begin(s: State, e: Event, queue: str | None = None) -> None:
    """An operation started; ``queue``: the object's list of waiters to join, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.state, p.op, p.on = "waiting", e["kind"][: -len(".begin")], e.get("obj")
        p.op_seq, p.op_t = e["seq"], e["t"]
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        getattr(obj, queue).append(e["pid"])


def _done(s: State, e: Event, queue: str | None = None) -> None:
    """An operation completed; ``queue``: the object's list of waiters to leave, if any."""
    p = s.procs.get(e["pid"])
    if p is not None:
        p.op_seq, p.op_t = e["seq"], e["t"]
        if p.state == "waiting":
            p.state, p.op, p.on = "running", None, None
    if queue is not None and (obj := s.objects.get(e.get("obj", ""))) is not None:
        waiting = getattr(obj, queue)
        if e["pid"] in waiting:
            waiting.remove(e["pid"])


# -- pipes and FIFOs ------------------------------------------------------------------


@handles("pipe.write.begin", "pipe.read.begin", "pipe.open.begin")
def _pipe_begin(s: State, e: Event) -> None:
    _begin(s, e)


@handles("pipe.open")
def _pipe_open(s: State, e: Event) -> None:
    _done(s, e)
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        (obj.readers if e.get("end") == 0 else obj.writers).add(e["pid"])


@handles("pipe.write")
def _pipe_write(s: State, e: Event) -> None:
    _done(s, e)
    obj = s.objects[e["obj"]]
    assert isinstance(obj, PipeObj)
    data = payload(e)
    n = e["n"]
    if len(data) < n:  # payload cut by the tracer: keep the count honest
        data = _made_up(s, e, data, n)
    obj.written += n
    obj.writes += 1
    _changed(obj, e)
    if obj.deficit:  # a reader already took (some of) these bytes
        used = min(obj.deficit, n)
        obj.deficit -= used
        data = data[used:]
    if data:
        obj.chunks.append([e["pid"], data])
        obj.nbytes += len(data)


@handles("pipe.read")
def _pipe_read(s: State, e: Event) -> None:
    _done(s, e)
    obj = s.objects[e["obj"]]
    assert isinstance(obj, PipeObj)
    n = e["n"]
    if n == 0:
        obj.eof = True
        return
    obj.read += n
    _changed(obj, e)
    take = min(n, obj.nbytes)
    obj.deficit += n - take
    obj.nbytes -= take
    _given_back(s, obj)
    while take:
        chunk = obj.chunks[0]
        if len(chunk[1]) <= take:
            take -= len(chunk[1])
            obj.chunks.popleft()
        else:
            chunk[1] = chunk[1][take:]
            take = 0


@handles("pipe.close")
def _pipe_close(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        (obj.readers if e.get("end") == 0 else obj.writers).discard(e["pid"])


@handles("pipe.epipe")
def _pipe_epipe(s: State, e: Event) -> None:
    _done(s, e)
    obj = s.objects.get(e["obj"])
    if isinstance(obj, PipeObj):
        obj.epipe += 1


# -- shared memory ---------------------------------------------------------------------


@handles("shm.write")
def _shm_write(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, ShmObj)
    data = payload(e)
    off = e["offset"]
    end = off + len(data)
    if not 0 <= off < obj.size:
        return
    if end > obj.size:
        data, end = data[: obj.size - off], obj.size
    obj.data[off:end] = data
    obj.writes += 1
    _changed(obj, e)
    size = obj.cell_size
    first, last = off // size, (max(end, off + 1) - 1) // size
    if first == last and first < obj.cells:  # one cell: the usual case
        obj.last_writer[first] = e["pid"]
        obj.changed_seq[first] = e["seq"]
        return
    for cell in range(first, min(last, obj.cells - 1) + 1):
        obj.last_writer[cell] = e["pid"]
        obj.changed_seq[cell] = e["seq"]


@handles("shm.read")
def _shm_read(s: State, e: Event) -> None:
    obj = s.objects.get(e["obj"])
    if isinstance(obj, ShmObj):
        obj.reads += 1


# -- semaphores ------------------------------------------------------------------------


@handles("sem.wait.begin")
def _sem_wait_begin(s: State, e: Event) -> None:
    _begin(s, e, "waiters")
    if (obj := s.objects.get(e.get("obj", ""))) is not None:
        _changed(obj, e)  # the kernel's count of waiters


@handles("sem.wait")
def _sem_wait(s: State, e: Event) -> None:
    _done(s, e, "waiters")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    _take(obj, e["pid"], e.get("n", 1))
    _changed(obj, e)


def _take(obj: SemObj, pid: int, n: int) -> None:
    obj.value -= n
    obj.waits += 1
    if obj.undo:
        obj.adj[pid] += n
    if not obj.signal:  # a lock so far: the taker holds it until it posts
        obj.holders[pid] += n


@handles("sem.trywait")
def _sem_trywait(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    if e.get("ok"):
        _take(obj, e["pid"], e.get("n", 1))
        _changed(obj, e)


@handles("sem.post")
def _sem_post(s: State, e: Event) -> None:
    obj = s.objects[e["obj"]]
    assert isinstance(obj, SemObj)
    pid, n = e["pid"], e.get("n", 1)
    obj.value += n
    obj.posts += 1
    _changed(obj, e)
    obj.posters.add(pid)
    if obj.undo:
        obj.adj[pid] -= n
    if obj.signal:
        return
    held = obj.holders.get(pid, 0)
    if held < n:
        # Posted by a process that did not take it: not a lock but a signal (the last
        # reader posting readers-writers' wrt, a producer posting "full"). Whoever took it
        # earlier does not hold it: "held by" means nothing for this semaphore any more.
        obj.signal = True
        obj.holders.clear()
    elif held == n:
        del obj.holders[pid]
    else:
        obj.holders[pid] = held - n


# -- message queues (POSIX: ``prio``; System V: ``mtype``) ----------------------------


def _msg_key(e: Event) -> int:
    return e["prio"] if "prio" in e else e.get("mtype", 0)


def _msg_data(s: State, e: Event) -> bytes:
    data = payload(e)
    size = e.get("size", len(data))
    return _made_up(s, e, data, size) if len(data) < size else data


def _made_up(s: State, e: Event, data: bytes, n: int) -> bytes:
    """``data`` padded with zeros to ``n`` bytes, within ``MAX_MADE_UP`` held at once.

    Counted against the object until it holds fewer bytes than were made up for it
    (``_given_back``): an upper bound of what is held, so the bound is never exceeded.
    """
    missing = n - len(data)
    held = s.extra.get("made_up", 0) + missing
    if held > MAX_MADE_UP:
        raise TraceError(
            f"event seq {e.get('seq')} ({e.get('kind')} on {e.get('obj')}): {n} B of which "
            f"{len(data)} recorded would make the model hold more than "
            f"{MAX_MADE_UP >> 20} MiB of unrecorded bytes (a limit: docs/trace-format.md)"
        )
    by = s.extra.setdefault("made_up_by", {})
    by[e["obj"]] = by.get(e["obj"], 0) + missing
    s.extra["made_up"] = held
    return data + bytes(missing)


def _given_back(s: State, obj: PipeObj | QueueObj) -> None:
    """Bytes left ``obj``: no more of what it holds than that can be made up."""
    by = s.extra.get("made_up_by")
    if not by or not by.get(obj.name):
        return  # the usual case: nothing was made up for it
    holds = obj.nbytes
    if isinstance(obj, QueueObj):
        holds += sum(len(x[1]) for x in obj.early)
    if by[obj.name] > holds:
        s.extra["made_up"] -= by[obj.name] - holds
        by[obj.name] = holds


@handles("mq.send.begin")
def _mq_send_begin(s: State, e: Event) -> None:
    _begin(s, e, "senders_waiting")


@handles("mq.recv.begin")
def _mq_recv_begin(s: State, e: Event) -> None:
    _begin(s, e, "receivers_waiting")


@handles("mq.send")
def _mq_send(s: State, e: Event) -> None:
    _done(s, e, "senders_waiting")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, QueueObj)
    pid = e["pid"]
    key, data = _msg_key(e), _msg_data(s, e)
    obj.sent += 1
    obj.last_send_pid = pid
    _changed(obj, e)
    for i, early in enumerate(obj.early):  # a receiver already took it
        if early[0] == key and early[1] == data:
            del obj.early[i]
            obj.deficit -= 1
            _given_back(s, obj)
            return
    _enqueue(obj, [key, data, pid])
    obj.nbytes += len(data)


def _enqueue(obj: QueueObj, msg: list[Any]) -> None:
    """Put a message where the kernel keeps it, so the queue is drawn in delivery order.

    A POSIX queue hands out the highest priority first and, within one priority, the oldest
    (mq_receive(3)): the message goes behind every message of its priority or higher. A
    System V queue keeps arrival order (msgrcv with type 0 takes the oldest).
    """
    queue = obj.messages
    if obj.type != "posix_mq" or not queue or queue[-1][0] >= msg[0]:
        queue.append(msg)  # the usual case: arrival order is delivery order
        return
    i = len(queue)
    while i > 0 and queue[i - 1][0] < msg[0]:
        i -= 1
    queue.insert(i, msg)


@handles("mq.recv")
def _mq_recv(s: State, e: Event) -> None:
    _done(s, e, "receivers_waiting")
    obj = s.objects[e["obj"]]
    assert isinstance(obj, QueueObj)
    pid = e["pid"]
    key, data = _msg_key(e), _msg_data(s, e)
    obj.received += 1
    obj.last_recv_pid = pid
    _changed(obj, e)
    for i, msg in enumerate(obj.messages):
        if msg[0] == key and msg[1] == data:
            del obj.messages[i]
            obj.nbytes -= len(data)
            _given_back(s, obj)
            return
    obj.early.append([key, data])
    obj.deficit += 1


# -- step gate, deadlock, lost updates (engine/gate.py, model/analysis) ----------------


@handles("gate.wait")
def _gate_wait(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if e.get("op") == "narrate" and not s.extra.get("present"):
        return  # a narration step waits only for the engine's kernel probe: not held
    if p is not None:
        p.gated_op, p.gated_obj = e.get("op"), e.get("obj")


@handles("gate.step")
def _gate_step(s: State, e: Event) -> None:
    p = s.procs.get(e["pid"])
    if p is not None:
        p.gated_op = p.gated_obj = None
    s.extra["steps"] = s.extra.get("steps", 0) + 1


@handles("deadlock")
def _deadlock(s: State, e: Event) -> None:
    cycle = e.get("cycle") or []
    # the current one, drawn until it is resolved: the cycle if one could be named, and
    # every stuck process with what it waits on
    s.extra["deadlock"] = {"cycle": cycle, "stuck": e.get("stuck") or []}
    s.extra.setdefault("deadlocks", []).append(cycle)


@handles("deadlock.resolved")
def _deadlock_resolved(s: State, e: Event) -> None:
    if s.extra.pop("deadlock", None) is not None:
        s.extra["deadlocks_broken"] = s.extra.get("deadlocks_broken", 0) + 1


@handles("deadlock.recover")
def _deadlock_recover(s: State, e: Event) -> None:
    """The engine posted a killed victim's units back (POSIX semaphores have no SEM_UNDO)."""
    obj = s.objects.get(e["obj"])
    if isinstance(obj, SemObj):
        n = e.get("n", 1)
        obj.value += n
        obj.posts += 1
        obj.holders.pop(e.get("victim", 0), None)
        _changed(obj, e)


@handles("sem.undo")
def _sem_undo(s: State, e: Event) -> None:
    """The kernel reversed a dead process's SEM_UNDO adjustment (``n``: units given back,
    negative when it had posted more than it took); Linux keeps the value in 0..SEMVMX."""
    obj = s.objects.get(e["obj"])
    if isinstance(obj, SemObj):
        pid = e.get("pid", 0)
        obj.value = min(max(obj.value + e.get("n", 0), 0), SEMVMX)
        obj.adj.pop(pid, None)
        obj.holders.pop(pid, None)
        _changed(obj, e)


@handles("holder.died")
def _holder_died(s: State, e: Event) -> None:
    """A lock's holder died without posting it and nobody left can (engine/deadlock.py):
    shown while the dead process still holds it (``model.analysis.holders``)."""
    s.extra.setdefault("holders_died", {})[e["obj"]] = {
        k: v for k, v in e.items() if k not in ("t", "seq", "kind")
    }


@handles("race.lost_update")
def _lost_update(s: State, e: Event) -> None:
    s.extra.setdefault("lost_updates", []).append(
        {k: v for k, v in e.items() if k in ("obj", "offset", "lost", "by", "seq", "missing")}
    )
