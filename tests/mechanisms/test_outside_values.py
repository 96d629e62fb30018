"""An ``outside`` object (found by ``ipcviz attach``, or one a program set where strace
cannot show the values: SETALL) held what no event shows, so the model's own count of it
is not the kernel's. No view may show that count as the object's value or depth: a
semaphore found at 2 and taken once was drawn and told "value now 0"; a queue found full
said "[1 queued]" with four in it. Its value is the kernel's reading, with its age; a
depth counts the traced messages and says so."""

from __future__ import annotations

import base64

from ipcviz.mechanisms.pipe import diagram as pipe_diagram
from ipcviz.mechanisms.pipe.view import pipe_lines
from ipcviz.mechanisms.posix_mq import diagram as mq_diagram
from ipcviz.mechanisms.posix_mq.view import queue_lines
from ipcviz.mechanisms.posix_sem import diagram as sem_diagram
from ipcviz.mechanisms.posix_sem.view import sem_lines
from ipcviz.model.reducer import apply_all
from ipcviz.model.state import State
from ipcviz.narrate.headless import Narrator

FOUND = {"t": 0, "pid": 0, "kind": "obj.declare", "discovered": True, "outside": True}
START = {"seq": 0, "t": 0, "pid": 10, "kind": "proc.start", "name": "prog"}


def _text(lines: list) -> str:
    return "\n".join("".join(seg.text for seg in line) for line in lines)


def _told(events: list[dict]) -> list[str]:
    narrator = Narrator({"scenario": {"id": "attach"}}, "en")
    return [line for e in events for line in narrator.feed(e)]


def test_a_semaphore_found_at_attach_shows_the_kernels_value_never_the_traced_count() -> None:
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "semid:7[0]", "type": "sysv_sem", "kernel_name": "7"},
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.sem", "obj": "semid:7[0]",
         "value": 2, "waiters": 0},
        {"seq": 3, "t": 1_500_000_000, "pid": 10, "kind": "sem.wait", "obj": "semid:7[0]"},
    ]  # fmt: skip
    told = _told(events)
    state = apply_all(State(), events)
    sem = state.objects["semid:7[0]"]
    shown = _text(sem_lines(state, sem, 120))
    value_line = shown.splitlines()[1]
    # the reading came before the traced wait, and the line says so
    assert " 2 " in value_line and "before the last change, 500ms ago" in value_line, shown
    assert not value_line.startswith(" value  0 ")  # the model's count: 2 unknown, minus 1
    assert "1 wait, 0 posts traced" in shown and "initial" not in shown
    assert sem_diagram.caption(state, sem) == "value 2 (kernel, before the last change, 500ms ago)"
    took = [line for line in told if "took semid:7[0]" in line]
    assert took and "the kernel's readings only" in took[0] and "value now" not in took[0]


def test_a_queue_found_at_attach_counts_its_traced_messages_and_says_so() -> None:
    data = base64.b64encode(b"new").decode()
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "mq:/q", "type": "posix_mq", "kernel_name": "/q",
         "max_messages": 4, "max_message_size": 32},
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.posix_mq", "obj": "mq:/q",
         "current_messages": 4, "max_messages": 4, "max_message_size": 32},
        {"seq": 3, "t": 1_100_000_000, "pid": 10, "kind": "mq.send", "obj": "mq:/q",
         "prio": 0, "size": 3, "data": data},
    ]  # fmt: skip
    told = _told(events)
    state = apply_all(State(), events)
    queue = state.objects["mq:/q"]
    shown = _text(queue_lines(state, queue, 100))
    assert "1/4 msgs traced" in shown and "1/4 msgs," not in shown, shown
    assert mq_diagram.caption(state, queue) == "1/4 msgs traced"
    sent = [line for line in told if "sent to mq:/q" in line]
    assert sent and "[1 traced in it; earlier contents: kernel readings]" in sent[0]
    assert "queued]" not in "\n".join(told)


def test_a_pipe_found_at_attach_counts_its_traced_bytes_and_says_so() -> None:
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "pipe:[9]", "type": "pipe", "kernel_name": "pipe:[9]",
         "capacity": 65536},
        {"seq": 2, "t": 1_000_000_000, "pid": 10, "kind": "pipe.write", "obj": "pipe:[9]",
         "n": 3, "data": base64.b64encode(b"abc").decode()},
    ]  # fmt: skip
    state = apply_all(State(), events)
    pipe = state.objects["pipe:[9]"]
    assert "3/65536 B traced" in _text(pipe_lines(state, pipe, 100))
    assert pipe_diagram.caption(state, pipe).startswith("3/65536 B traced")


def test_the_perfetto_counter_of_an_outside_object_is_the_kernels_readings() -> None:
    """The export's counter track of a queue found full said 0, then 1 message: the
    model's count. It is now the kernel's readings, each at its moment, named so; the
    traced operations add no sample a reading did not give."""
    from ipcviz.export.perfetto import _Converter

    data = base64.b64encode(b"new").decode()
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "mq:/q", "type": "posix_mq", "kernel_name": "/q",
         "max_messages": 4, "max_message_size": 32},
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.posix_mq", "obj": "mq:/q",
         "current_messages": 4, "max_messages": 4, "max_message_size": 32},
        {"seq": 3, "t": 1_100_000_000, "pid": 10, "kind": "mq.recv", "obj": "mq:/q",
         "prio": 0, "size": 3, "data": data},
        {"seq": 4, "t": 1_200_000_000, "pid": 10, "kind": "mq.send", "obj": "mq:/q",
         "prio": 0, "size": 3, "data": data},
        {"seq": 5, "t": 1_500_000_000, "pid": 0, "kind": "probe.posix_mq", "obj": "mq:/q",
         "current_messages": 4, "max_messages": 4, "max_message_size": 32},
    ]  # fmt: skip
    converter = _Converter({"scenario": {"id": "attach"}})
    out = []
    for e in events:
        out += converter.feed(e)  # applied to its own model there
    counters = [(c["name"], c["args"]) for c in out if c.get("ph") == "C"]
    assert counters == [("posix_mq mq:/q messages (kernel readings)", {"messages": 4})]


def test_a_perfetto_reading_is_drawn_when_it_was_read_not_when_it_was_published() -> None:
    """A reading published after a receive stamped later than it (stamps do not order the
    stream) was drawn at the receive's time: 100 ms after the kernel said 4."""
    from ipcviz.export.perfetto import _Converter

    data = base64.b64encode(b"new").decode()
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "mq:/q", "type": "posix_mq", "kernel_name": "/q",
         "max_messages": 4, "max_message_size": 32},
        {"seq": 2, "t": 1_100_000_000, "pid": 10, "kind": "mq.recv", "obj": "mq:/q",
         "prio": 0, "size": 3, "data": data},
        {"seq": 3, "t": 1_000_000_000, "pid": 0, "kind": "probe.posix_mq", "obj": "mq:/q",
         "current_messages": 4, "max_messages": 4, "max_message_size": 32},
    ]  # fmt: skip
    converter = _Converter({"scenario": {"id": "attach"}})
    out = [c for e in events for c in converter.feed(e)]
    assert [(c["ts"], c["args"]) for c in out if c.get("ph") == "C"] == [
        (1_000_000.0, {"messages": 4})
    ]


def test_every_send_and_refusal_is_legal_on_an_outside_queue() -> None:
    """A queue found at attach with one traced message in a room for one: a process
    outside the tree may have taken it, so a send is no "send to a full queue"; it may
    hold messages no event shows, so a refused send or receive accuses nobody."""
    from ipcviz.model.legal import violation

    data = base64.b64encode(b"x").decode()
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "mq:/q", "type": "posix_mq", "kernel_name": "/q",
         "max_messages": 1, "max_message_size": 32},
        {"seq": 2, "t": 1, "pid": 10, "kind": "mq.send", "obj": "mq:/q", "prio": 0,
         "size": 1, "data": data},
    ]  # fmt: skip
    state = apply_all(State(), events)
    send = {"seq": 3, "t": 2, "pid": 10, "kind": "mq.send", "obj": "mq:/q", "prio": 0,
            "size": 1, "data": data}  # fmt: skip
    refused_send = {"seq": 3, "t": 2, "pid": 10, "kind": "mq.again", "obj": "mq:/q", "send": True}
    refused_recv = {"seq": 3, "t": 2, "pid": 10, "kind": "mq.again", "obj": "mq:/q"}
    assert violation(state, send) is None
    assert violation(state, refused_recv) is None  # one traced message, yet refused
    state.objects["mq:/q"].messages.clear()
    assert violation(state, refused_send) is None  # no traced message, yet full
    state.objects["mq:/q"].info.pop("outside")  # the same, traced from its making:
    assert violation(state, refused_send) is not None


def test_a_write_into_an_outside_pipe_is_legal_whatever_the_traced_fill() -> None:
    """Attached to a writer whose reader is outside the tree: the traced writes pile up in
    the model (nobody traced reads them), and the write after 64 KiB was "a write into a
    pipe with 0 B of room" while the unwatched reader kept the pipe empty."""
    from ipcviz.model.legal import violation

    chunk = base64.b64encode(b"x" * 4096).decode()
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "pipe:[9]", "type": "pipe", "kernel_name": "pipe:[9]",
         "capacity": 65536},
        *({"seq": 2 + i, "t": 2 + i, "pid": 10, "kind": "pipe.write", "obj": "pipe:[9]",
           "n": 4096, "data": chunk} for i in range(16)),
    ]  # fmt: skip
    state = apply_all(State(), events)
    write = {**events[-1], "seq": 99, "t": 99}
    eof = {"seq": 99, "t": 99, "pid": 10, "kind": "pipe.read", "obj": "pipe:[9]", "n": 0}
    assert violation(state, write) is None
    assert violation(state, eof) is None  # its bytes may have gone to that reader
    state.objects["pipe:[9]"].info.pop("outside")  # traced from its making: no room left
    assert violation(state, write) is not None


def test_a_found_semaphores_diagram_says_its_reading_is_older_than_a_traced_wait() -> None:
    """The diagram's caption of a semaphore found at 2, then taken once by a traced wait,
    said "value 2 (kernel)" as if 2 were its value now: the list view says the reading
    came before the last change, and so does the caption. Its box is worded in Korean too
    (it said "not read yet" and "1 asleep (kernel)" in English on a Korean screen)."""
    from ipcviz.i18n import speaking

    events = [
        START,
        {**FOUND, "seq": 1, "obj": "semid:7[0]", "type": "sysv_sem", "kernel_name": "7"},
    ]
    state = apply_all(State(), events)
    sem = state.objects["semid:7[0]"]
    with speaking("ko"):
        unread = _text(sem_diagram.draw(state, sem, 60, 2, False))
    assert "not read yet" not in unread and "아직 읽지 않음" in unread, unread
    events += [
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.sem", "obj": "semid:7[0]",
         "value": 2, "waiters": 1},
        {"seq": 3, "t": 1_500_000_000, "pid": 10, "kind": "sem.wait", "obj": "semid:7[0]"},
    ]  # fmt: skip
    state = apply_all(State(), events)
    sem = state.objects["semid:7[0]"]
    assert sem_diagram.caption(state, sem) == "value 2 (kernel, before the last change, 500ms ago)"
    with speaking("ko"):
        drawn = _text(sem_diagram.draw(state, sem, 60, 2, False))
        assert "asleep" not in drawn, drawn
        assert sem_diagram.caption(state, sem) == "값 2 (커널, 마지막 변경 이전, 500ms 전)"


def test_a_sem_undo_on_an_outside_semaphore_tells_no_value_of_the_models() -> None:
    """A process that took a semaphore found at attach with SEM_UNDO dies: the kernel gives
    its unit back. The log said "value now 1", the model's count of a semaphore whose
    value no event shows (the kernel read 3); like its waits and posts, it now says its
    value is the kernel's readings only. Korean too."""
    events = [
        START,
        {**FOUND, "seq": 1, "obj": "semid:7[0]", "type": "sysv_sem", "kernel_name": "7",
         "value": 1, "undo": True},
        {"seq": 2, "t": 1_000_000_000, "pid": 0, "kind": "probe.sem", "obj": "semid:7[0]",
         "value": 3, "waiters": 0},
        {"seq": 3, "t": 1_100_000_000, "pid": 10, "kind": "sem.wait", "obj": "semid:7[0]"},
        {"seq": 4, "t": 1_200_000_000, "pid": 10, "kind": "proc.exit", "code": 0},
        {"seq": 5, "t": 1_200_000_000, "pid": 10, "kind": "sem.undo", "obj": "semid:7[0]",
         "n": 1},
    ]  # fmt: skip
    for lang, forbidden in (("en", "value now"), ("ko", "현재 값")):
        narrator = Narrator({"scenario": {"id": "attach"}}, lang)
        told = [line for e in events for line in narrator.feed(e)]
        undo = [line for line in told if "SEM_UNDO" in line]
        assert undo and forbidden not in undo[0], told
