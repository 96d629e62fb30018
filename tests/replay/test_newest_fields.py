"""Hostile edits of real traces that use the newest kinds and fields: ``mq.copy``, ``mq.recv``
with ``except``, ``mq.limit``, the ``joined`` parts of one semop, names with bytes that
are not UTF-8 and ``NAME (2)`` incarnations (tests/replay/recorded/, recorded by
``ipcviz run -- PROG``).

A malformed field is one line and exit 2 from every command that reads the trace (the
headless replay, ``verify`` and every export), never a traceback, never a verdict on a
history the trace does not describe; an edit that keeps the trace well-formed but makes
it illegal is found by ``verify`` (exit 1).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ipcviz import cli
from ipcviz.events.codec import payload

RECORDED = Path(__file__).parent / "recorded"
Event = dict[str, Any]


def recorded(name: str) -> tuple[dict[str, Any], list[Event]]:
    """A recorded trace's header and events."""
    lines = (RECORDED / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def write(path: Path, header: dict[str, Any], events: list[Any]) -> Path:
    lines = [json.dumps(header), *(json.dumps(e) for e in events)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ipcviz(*argv: str) -> tuple[Any, str, str]:
    """``ipcviz ARGV`` in this process: exit code, stdout, stderr (a traceback fails)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code: Any = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def readers(trace: Path) -> dict[str, list[str]]:
    """Every command that reads a trace, by name: its arguments."""
    out = trace.parent / "out"
    return {
        "replay": ["replay", str(trace), "--headless"],
        "verify": ["verify", str(trace)],
        **{
            fmt: ["export", str(trace), "--format", fmt, "-o", f"{out}.{fmt}", "--force"]
            for fmt in ("perfetto", "svg", "html")
        },
    }


def assert_refused(trace: Path, *words: str) -> None:
    """Every reader says one line naming the problem (``words``) and exits 2."""
    for name, argv in readers(trace).items():
        code, _, err = ipcviz(*argv)
        assert code == 2, f"{name}: exit {code}: {err}"
        assert len(err.strip().splitlines()) == 1, f"{name}: {err}"
        for word in words:
            assert word in err, f"{name}: {err}"


def first(events: list[Event], kind: str, **has: Any) -> Event:
    return next(e for e in events if e["kind"] == kind and has.items() <= e.items())


def edited(tmp_path: Path, name: str, edit: Callable[[list[Event]], Any]) -> Path:
    header, events = recorded(name)
    edit(events)
    return write(tmp_path / f"{name}.jsonl", header, events)


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDED.glob("*.jsonl")))
def test_the_recorded_traces_are_legal_histories(name: str) -> None:
    code, out, _ = ipcviz("verify", str(RECORDED / f"{name}.jsonl"))
    assert code == 0 and "legal history" in out, out


@pytest.mark.parametrize(
    ("name", "kind", "count"),
    [
        ("copy", "mq.send", "size"),
        ("copy", "mq.copy", "size"),
        ("except", "mq.recv", "size"),
        ("recreated", "pipe.write", "n"),
        ("recreated", "pipe.read", "n"),
    ],
)
def test_a_payload_longer_than_its_count_is_refused(
    tmp_path: Path, name: str, kind: str, count: str
) -> None:
    """A record keeps the first bytes of a call, never more than it moved. ``"size": 1``
    with two bytes was read: the model held a message of 2 B sent as 1, and verify said
    "legal history" for the trace where a receive of 2 B took it."""

    def one_short(events: list[Event]) -> None:
        e = first(events, kind)
        e[count] = len(payload(e)) - 1

    trace = edited(tmp_path, name, one_short)
    assert_refused(trace, kind, "'data' holds", f"more than its {count!r}")


@pytest.mark.parametrize(
    ("name", "kind", "has", "field", "value", "said"),
    [
        ("qbytes", "mq.limit", {}, "max_bytes", True, "not a boolean"),
        ("copy", "mq.copy", {}, "want", True, "not a boolean"),
        ("except", "mq.recv", {"except": 1}, "want", False, "not a boolean"),
        ("semop", "sem.wait", {"joined": 1}, "n", True, "not a boolean"),
        ("except", "mq.recv", {"except": 1}, "except", -(2**63), "true/false or 1/0"),
        ("except", "mq.recv", {"except": 1}, "except", 2, "true/false or 1/0"),
        ("qbytes", "mq.again", {}, "send", 2**63 - 1, "true/false or 1/0"),
    ],
)
def test_a_boolean_is_no_number_and_a_flag_is_no_other_number(
    tmp_path: Path, name: str, kind: str, has: dict[str, Any], field: str, value: Any, said: str
) -> None:
    """``true`` passed for 1 where a number goes (``"max_bytes": true`` was read, and the
    queue's bar said "4/True B"), and any integer passed as a flag (``"except":
    -9223372036854775808`` was read as a MSG_EXCEPT receive): both are refused."""
    trace = edited(tmp_path, name, lambda ev: first(ev, kind, **has).update({field: value}))
    assert_refused(trace, kind, repr(field), said)


@pytest.mark.parametrize(
    ("name", "kind", "has", "field", "value", "said"),
    [
        ("semop", "sem.post", {"joined": 1}, "joined", "x", "'joined' must be true/false"),
        ("semop", "sem.wait", {"joined": 1}, "joined", {"a": [1]}, "'joined' must be true/false"),
        ("semop", "sem.wait", {"joined": 1}, "joined", 7, "'joined' must be true/false or 1/0"),
        ("semop", "sem.post", {"joined": 1}, "thread", "1", "'thread' must be an integer"),
        ("copy", "mq.copy", {}, "thread", [1], "'thread' must be an integer"),
        ("qbytes", "mq.limit", {}, "thread", -1, "'thread' is out of range"),
    ],
)
def test_a_semop_part_and_a_thread_are_checked(
    tmp_path: Path, name: str, kind: str, has: dict[str, Any], field: str, value: Any, said: str
) -> None:
    """``joined`` and ``thread`` had no check: ``"joined": "x"`` or ``{"a": [1]}`` was a
    part of a semop, any JSON was a thread (a string, a list: each read as the process's
    first thread), and ``verify`` said "legal history"."""
    trace = edited(tmp_path, name, lambda ev: first(ev, kind, **has).update({field: value}))
    assert_refused(trace, kind, said)


def _between_the_parts(events: list[Event], make: Callable[[Event, int], Event]) -> None:
    """``make(first part, another process)`` goes between the first two parts of a semop."""
    i = next(i for i, e in enumerate(events) if e.get("joined"))
    part = events[i - 1]
    other = next(e["pid"] for e in events if e["kind"] == "proc.start" and e["pid"] != part["pid"])
    events.insert(i, {"t": part["t"], "seq": part["seq"], **make(events[i], other)})


@pytest.mark.parametrize(
    ("what", "make"),
    [
        ("post", lambda part, pid: {"pid": pid, "kind": "sem.post", "obj": part["obj"]}),
        (
            "posted back",
            lambda part, pid: {
                "pid": 0,
                "kind": "deadlock.recover",
                "obj": part["obj"],
                "n": 1,
                "victim": pid,
            },
        ),
        (
            "set again",
            lambda part, pid: {
                "pid": pid,
                "kind": "obj.declare",
                "obj": part["obj"],
                "type": "sysv_sem",
                "value": 5,
            },
        ),
    ],
)
def test_nothing_that_changes_a_semaphore_comes_between_the_parts_of_one_semop(
    tmp_path: Path, what: str, make: Callable[[Event, int], Event]
) -> None:
    """The kernel applies a semop at one instant: another process's post between its
    parts is an ``atomic`` violation, and so (before: "legal history") is the engine's
    posting back for a killed holder (``deadlock.recover``) or a semaphore declared again
    with a value (a program's semctl SETVAL)."""
    trace = edited(tmp_path, "semop", lambda ev: _between_the_parts(ev, make))
    code, out, _ = ipcviz("verify", str(trace))
    assert code == 1, out
    assert "atomic: sem.post" in out and "part before it" in out


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        ("a first part marked joined", lambda ev: first(ev, "sem.post").update(joined=1)),
        ("a part of another process", lambda ev: first(ev, "sem.post", joined=1).update(pid=0)),
        ("a part of another thread", lambda ev: first(ev, "sem.post", joined=1).update(thread=3)),
    ],
)
def test_verify_finds_a_semop_part_without_its_part_before(
    tmp_path: Path, what: str, edit: Callable[[list[Event]], Any]
) -> None:
    trace = edited(tmp_path, "semop", edit)
    code, out, _ = ipcviz("verify", str(trace))
    assert code == 1 and "atomic: sem.post" in out, out


def _thread_blocks_swapped(events: list[Event]) -> None:
    """Thread 2's writes go first, and the read returns their bytes first (so each object
    stays legal): thread 1 wrote all of its own before thread 2 began."""
    ones = [e for e in events if e.get("thread") == 1]
    twos = [e for e in events if e.get("thread") == 2]
    i = events.index(ones[0])
    rest = [e for e in events if e not in ones and e not in twos]
    events[:] = rest[:i] + twos + ones + rest[i:]
    read = first(events, "pipe.read")
    read["data"] = base64.b64encode(b"".join(payload(e) for e in twos + ones)).decode()
    for seq, e in enumerate(events):
        e["seq"] = seq


def test_a_threads_records_are_held_to_real_time(tmp_path: Path) -> None:
    """A record of a thread (``thread`` n > 0) skipped rules 2 and 3: thread 1's three
    writes, all ended before thread 2's first began, placed after thread 2's were "a
    legal history". Now a thread is a program order of its own, and held to real time."""
    trace = edited(tmp_path, "threads", _thread_blocks_swapped)
    code, out, _ = ipcviz("verify", str(trace))
    assert code == 1, out
    assert "real-time: pipe.write" in out and "legal:" not in out


def _declared(type_: str) -> Callable[[list[Event]], Event]:
    return lambda ev: first(ev, "obj.declare", type=type_)


@pytest.mark.parametrize(
    ("name", "type_", "field", "value"),
    [
        ("twoq", "posix_mq", "max_messages", -1),
        ("twoq", "posix_mq", "max_message_size", -(2**63)),
        ("copy", "sysv_mq", "max_bytes", -1),
        ("semop", "sysv_sem", "value", -1),
        ("semop", "sysv_sem", "value", 2**31),
    ],
)
def test_a_declared_limit_or_value_below_zero_is_refused(
    tmp_path: Path, name: str, type_: str, field: str, value: int
) -> None:
    """A queue declared with ``"max_messages": -1`` was read, and its first send was
    "send to a full queue (0/-1 messages)": verify blamed the program for the trace's
    own nonsense. A semaphore declared at -1 (or past INT_MAX) likewise."""
    trace = edited(tmp_path, name, lambda ev: _declared(type_)(ev).update({field: value}))
    assert_refused(trace, "obj.declare", repr(field), "out of range")


def test_a_limit_past_one_read_write_is_read(tmp_path: Path) -> None:
    """msg_qbytes is an unsigned long; root (CAP_SYS_RESOURCE) may set it past msgmnb and
    past 2 GiB. The reader held ``mq.limit`` to one read/write's bytes (0..2147479552):
    such a trace, recorded, could not be replayed or verified (exit 2)."""

    def raised(events: list[Event]) -> None:
        send = first(events, "mq.send")
        limit = {"t": send["t"], "seq": send["seq"], "pid": send["pid"], "kind": "mq.limit"}
        events.insert(events.index(send), {**limit, "obj": send["obj"], "max_bytes": 2**40})

    trace = edited(tmp_path, "copy", raised)
    code, out, err = ipcviz("verify", str(trace))
    assert code == 0 and "legal history" in out, out + err
    code, out, _ = ipcviz("replay", str(trace), "--headless")
    assert code == 0 and f"to {2**40} B (msgctl IPC_SET)" in out


@pytest.mark.parametrize("kind", ["mq.copy", "mq.limit"])
def test_a_system_v_queue_call_on_a_posix_queue_is_refused(tmp_path: Path, kind: str) -> None:
    """MSG_COPY and msgctl(IPC_SET) are System V calls: an ``mq.limit`` on a POSIX queue
    was read (its bar then had a byte limit), an ``mq.copy`` checked as a copy."""

    def on_posix(events: list[Event]) -> None:
        send = first(events, "mq.send")
        fields = {"max_bytes": 1} if kind == "mq.limit" else {"want": 0, "mtype": 1}
        at = events.index(send) + 1
        events.insert(at, {**send, "kind": kind, "size": send["size"], **fields})
        for seq, e in enumerate(events):
            e["seq"] = seq

    trace = edited(tmp_path, "recreated", on_posix)
    assert_refused(trace, kind, "a posix_mq, not a sysv_mq")


def _escaped_names(events: list[Event]) -> None:
    """Every object and process named with escapes, markup and a byte not UTF-8."""
    for e in events:
        if isinstance(e.get("obj"), str):
            e["obj"] += "\x1b[2J\x9b[bold]x[/]\udcff"
        if e["kind"] == "proc.start":
            e["name"] += "\x1b]0;t\x07"


@pytest.mark.parametrize(
    ("name", "edit", "bad"),
    [
        ("semop", _escaped_names, None),
        ("copy", _escaped_names, None),
        ("qbytes0", lambda ev: None, None),
        ("twoq", lambda ev: None, None),
        ("semop", lambda ev: first(ev, "sem.post", joined=1).update(joined="x"), "'joined'"),
        ("copy", lambda ev: first(ev, "mq.send").update(size=1), "'data' holds"),
    ],
)
async def test_the_replay_screen_draws_every_event_of_the_newest_kinds_inert(
    tmp_path: Path, name: str, edit: Callable[[list[Event]], Any], bad: str | None
) -> None:
    """The TUI replay (a Pilot test), stepped through every event: nothing drawn holds a
    control character; a malformed field is said, once the index reaches it."""
    import time

    from ipcviz.tui.launch import replay_app
    from ipcviz.tui.screens.replay import ReplayScreen
    from tests.replay.test_hostile_traces import forbidden

    trace = edited(tmp_path, name, edit)
    app = replay_app(trace)
    said: list[str] = []
    notify = app.notify

    def noted(message: str, **kwargs: Any) -> None:  # toasts expire: keep what was said
        said.append(message)
        notify(message, **kwargs)

    app.notify = noted  # type: ignore[method-assign]
    async with app.run_test(size=(140, 45), notifications=True) as pilot:
        deadline = time.monotonic() + 120
        while not (isinstance(app.screen, ReplayScreen) and app.screen.index.done):
            assert time.monotonic() < deadline, "the index never finished"
            await pilot.pause(0.02)
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        assert (screen.index.error is None) == (bad is None), screen.index.error
        await pilot.press("home")
        for _ in range(min(screen.index.count, 60)):
            await pilot.press("right")
            screen.redraw(True)
            await pilot.pause()
            text = "\n".join(
                "".join(seg.text for seg in strip) for strip in screen._compositor.render_strips()
            )
            assert not forbidden(text), forbidden(text)
        if bad is not None:
            while not any(bad in m for m in said):
                assert time.monotonic() < deadline, f"{bad} never said"
                await pilot.pause(0.02)
        assert not any(forbidden(m) for m in said), said


@pytest.mark.parametrize(
    "last",
    [
        {"kind": "session.end", "outcome": "passed", "events": True},
        {"kind": "session.end", "outcome": "passed", "events": 24, "seq": 10**29},
        {"kind": "session.end", "outcome": ["passed"], "events": 24},
    ],
)
def test_runs_lists_a_run_whose_last_line_is_malformed_as_one_with_no_end(
    tmp_path: Path, last: Event
) -> None:
    """``ipcviz runs`` read the last line with no schema: ``"events": true`` was listed as
    "1 events" and ``"passed"``, a ``seq`` of 10**29 as that many events. Replay refuses
    such a line: the list says the run has no end it can read."""
    from ipcviz.events.runs import run_info

    header, events = recorded("copy")
    events[-1] = {"t": events[-1]["t"], "seq": events[-1]["seq"], "pid": 0, **last}
    info = run_info(write(tmp_path / "t.jsonl", header, events))
    assert (info.outcome, info.events) == (None, 0)


def test_thread_0_is_the_first_thread_to_the_semop_rule(tmp_path: Path) -> None:
    """``"thread": 0`` and no ``thread`` are the same first thread (rules 3 and 4 read them
    so); rule 5 compared them as written, and a joined part saying ``"thread": 0`` after
    its first part saying none was an ``atomic`` violation of a legal history."""
    trace = edited(tmp_path, "semop", lambda ev: first(ev, "sem.post", joined=1).update(thread=0))
    code, out, _ = ipcviz("verify", str(trace))
    assert code == 0 and "legal history" in out, out


def _posix_queue_of_two(events: list[Event], recv: dict[str, Any]) -> None:
    """The first queue of ``recreated`` gets "Z" of priority 5 after its "A" of priority
    0; its receive (edited by ``recv``) takes "A"."""
    send = first(events, "mq.send", obj="mq:/ipcviz-hx-rec")
    z = {**send, "prio": 5, "data": base64.b64encode(b"Z").decode()}
    events.insert(events.index(send) + 1, z)
    got = first(events, "mq.recv", obj="mq:/ipcviz-hx-rec")
    got.update(recv)
    for key in [k for k, v in recv.items() if v is None]:
        del got[key]
    for seq, e in enumerate(events):
        e["seq"] = seq


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        ("no prio, want -1", lambda ev: _posix_queue_of_two(ev, {"prio": None, "want": -1})),
        (
            "no prio, except 5",
            lambda ev: _posix_queue_of_two(ev, {"prio": None, "want": 5, "except": 1}),
        ),
        (
            "cut",
            lambda ev: (
                first(ev, "mq.send", obj="mq:/ipcviz-hx-rec").update(size=3, data="QUJD"),
                first(ev, "mq.recv", obj="mq:/ipcviz-hx-rec").update(cut=1),
            ),
        ),
    ],
)
def test_a_posix_receive_is_checked_as_a_posix_receive(
    tmp_path: Path, what: str, edit: Callable[[list[Event]], Any]
) -> None:
    """A POSIX queue hands out its highest priority, and never cuts a message: a receive
    with System V's fields (no ``prio``, a ``want``, ``except``, ``cut``) was checked as a
    System V one, and verify said "legal history" of a receive of priority 0 taken over
    one of 5, or of "A" taken for the 3 bytes "ABC"."""
    trace = edited(tmp_path, "recreated", edit)
    code, out, _ = ipcviz("verify", str(trace))
    assert code == 1, out
    assert "legal: mq.recv mq:/ipcviz-hx-rec:" in out
