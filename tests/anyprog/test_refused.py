"""What a watched program saw refused is shown as the kernel did it: a non-blocking queue
call that failed with EAGAIN (System V msgrcv: ENOMSG) is an ``mq.again`` on the queue, at
its moment, and the trace stays a legal history."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ipcviz.events.trace import TraceReader
from ipcviz.mechanisms.posix_mq.view import queue_lines
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from tests.anyprog import programs
from tests.anyprog.test_programs import compile_c, needs_tools, said, watch

#: How each of the program's calls shows: the kind, and ``send`` for a refusal
_SHOWN = {("send", "ok"): "mq.send", ("recv", "ok"): "mq.recv"}


@needs_tools
def test_refused_queue_calls_are_shown_where_the_program_saw_them(tmp_path: Path) -> None:
    """Before: the refused calls were dropped (4 events of each queue, not 6), though the
    program printed "send 2: EAGAIN"."""
    binary = compile_c(tmp_path, "again", programs.QUEUE_AGAIN)
    done, events = watch(tmp_path, binary)  # (verify: a legal history)
    report = said(events)
    for queue, prefix in (("P", "mq:/"), ("V", "msqid:")):
        calls = [(w[1], w[3]) for w in report if w[0] == queue]
        assert calls == [
            ("send", "ok"), ("send", "ok"), ("send", "EAGAIN"),
            ("recv", "ok"), ("recv", "ok"), ("recv", "ENOMSG" if queue == "V" else "EAGAIN"),
        ]  # fmt: skip
        shown = [
            (e["kind"], e.get("send"))
            for e in events
            if e["kind"] in ("mq.send", "mq.recv", "mq.again") and e["obj"].startswith(prefix)
        ]
        expected = [
            (_SHOWN[call], None) if call in _SHOWN else ("mq.again", int(call[0] == "send"))
            for call in calls
        ]
        assert shown == expected, queue
    assert not any(e["kind"] == "order.conflict" for e in events)
    assert "refused (EAGAIN)" in done.stdout and "refused (ENOMSG)" in done.stdout


@needs_tools
def test_a_posix_queue_made_with_o_creat_alone_and_left_is_named(tmp_path: Path) -> None:
    """Before: where /dev/mqueue is not mounted (what existed before the run cannot be
    listed), a queue opened with O_CREAT alone and left behind was not named at all. It is
    named now, and said to be maybe the program's (never removed); where /dev/mqueue is
    mounted, the name was free before the run: the program's, kept."""
    import posix_ipc

    from ipcviz.sources.strace.source import mq_names

    name = f"ipcviz-test-plain-{os.getpid()}"
    binary = compile_c(tmp_path, "mq_plain", programs.MQ_PLAIN)
    try:
        done, events = watch(tmp_path, binary, name)
        assert said(events)[0][:2] == ["S", "1"]
        left = [e for e in events if e["kind"] == "program.leftover"]
        assert [(e["obj"], e["what"], e["removed"]) for e in left] == [
            (f"mq:/{name}", "POSIX queue", False)
        ]
        assert left[0]["reason"] == ("maybe" if mq_names() is None else "kept")
        assert name in done.stdout.split("left behind:")[-1]
    finally:
        posix_ipc.unlink_message_queue(f"/{name}")  # the test ran the program: its queue


@needs_tools
def test_a_refusal_on_a_queue_that_was_there_before_accuses_nobody(tmp_path: Path) -> None:
    """A full queue (2 of 2) made before the run; the program opens it with O_CREAT alone
    and its send is refused. Where /dev/mqueue is not mounted, nothing said the queue was
    there: the model held it empty, and the refusal was an ``order.conflict`` (``ipcviz
    verify``: 2 violations). Now a ``notice`` (unseen-contents) says its contents are not
    all known, before the refusal; where /dev/mqueue is mounted it was ``outside`` anyway."""
    import posix_ipc

    name = f"/ipcviz-test-full-{os.getpid()}"
    binary = compile_c(tmp_path, "mq_nonblock", programs.MQ_NONBLOCK_SEND)
    queue = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, max_messages=2, max_message_size=16)
    try:
        queue.send(b"a")
        queue.send(b"b")
        _, events = watch(tmp_path, binary, name)  # (verify: a legal history)
        assert said(events)[0][:2] == ["S", "EAGAIN"]
        assert [e.get("send") for e in events if e["kind"] == "mq.again"] == [1]
        assert not any(e["kind"] == "order.conflict" for e in events)
    finally:
        queue.close()
        queue.unlink()


@needs_tools
def test_refusals_among_concurrent_sends_and_receives_are_all_shown_in_order(
    tmp_path: Path,
) -> None:
    """Each refusal the two processes counted is one ``mq.again``, and the linearizer
    finds a legal order for them among the sends and receives (no conflict)."""
    binary = compile_c(tmp_path, "spin", programs.QUEUE_SPIN)
    _, events = watch(tmp_path, binary)  # (verify: a legal history)
    counted = sum(int(w[2]) for w in said(events) if w[1] == "again")
    assert sum(e["kind"] == "mq.again" for e in events) == counted
    assert sum(e["kind"] == "mq.recv" for e in events) == 400
    assert not any(e["kind"] in ("order.conflict", "notice") for e in events)


@needs_tools
@pytest.mark.parametrize(
    ("mode", "old", "report"), [("r", 1, "R ok"), ("s", 2, "S EAGAIN"), ("R", 1, "R ok")]
)
def test_a_queue_there_before_opened_with_o_creat_alone_accuses_nobody(
    tmp_path: Path, mode: str, old: int, report: str
) -> None:
    """A queue made before the run holding ``old`` messages; the program opens it with
    O_CREAT alone and forks, and the child receives one of them (``r``) or is refused a
    send on it, full (``s``); or it receives one itself, alone (``R``). Where /dev/mqueue
    is not mounted, the run said it "creates" the queue, held it empty, and the receive or
    refusal was an ``order.conflict`` (``ipcviz verify``: 2 violations): with two holders
    the mapper cannot count it, and it said nothing of a receive. Now the declare says it
    may have been there, and the linearizer, finding no order, says its contents are not
    all known (``notice`` unseen-contents) instead of a conflict."""
    import posix_ipc

    from ipcviz.sources.strace.source import mq_names

    name = f"/ipcviz-test-shared-{os.getpid()}"
    binary = compile_c(tmp_path, "mq_shared", programs.MQ_SHARED)
    queue = posix_ipc.MessageQueue(name, posix_ipc.O_CREX, max_messages=2, max_message_size=16)
    try:
        for i in range(old):
            queue.send(b"old%d" % i)
        done, events = watch(tmp_path, binary, name, mode)  # (verify: a legal history)
        assert " ".join(said(events)[0][:2]) == report
        assert not any(e["kind"] == "order.conflict" for e in events)
        # the kernel's reading once every process is gone: what is left of the old ones
        readings = [e for e in events if e["kind"] == "probe.posix_mq"]
        assert readings and readings[-1]["obj"] == f"mq:{name}"
        assert readings[-1]["current_messages"] == old - (mode != "s")
        if mq_names() is not None:  # /dev/mqueue lists it: declared ``outside`` from the start
            return
        assert f"creates posix_mq mq:{name}" not in done.stdout
        assert f"opens posix_mq mq:{name} ({name}) with O_CREAT alone" in done.stdout
        notices = [e for e in events if e["kind"] == "notice"]
        assert [(e["reason"], e["obj"]) for e in notices] == [("unseen-contents", f"mq:{name}")]
        op = next(e for e in events if e["kind"] in ("mq.recv", "mq.again"))
        assert notices[0]["seq"] < op["seq"]
        # before the notice, its panel counts the traced messages: never "(empty)"
        state = State(header=TraceReader.open(tmp_path / "run.jsonl").header)
        for e in events[: events.index(notices[0])]:
            apply(state, e)
        drawn = "\n".join(
            "".join(seg.text for seg in line)
            for line in queue_lines(state, state.objects[f"mq:{name}"], 100)
        )
        assert "(empty)" not in drawn and "0/2 msgs traced" in drawn
        assert "it may have held messages before the run" in drawn
    finally:
        queue.close()
        queue.unlink()
