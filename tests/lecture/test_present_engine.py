"""Presenter mode in the engine: every narration step holds the world until ``continue``."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any

from ipcviz import probe
from ipcviz.engine.client import EngineProcess
from ipcviz.scenario.loader import resolve


def _reader(engine: EngineProcess, out: queue.Queue[dict[str, Any] | None]) -> None:
    for event in engine.events():
        out.put(event)
    out.put(None)


#: Event kinds of operations on kernel objects.
OPERATIONS = ("pipe.", "fifo.", "mq.", "sysv_mq.", "shm.", "sem.", "sysv_sem.")


def _track(event: dict[str, Any], at_gate: set[int]) -> None:
    if event["kind"] == "gate.wait":
        at_gate.add(event["pid"])
    elif event["kind"] in ("gate.step", "proc.exit"):
        at_gate.discard(event["pid"])


def _next(q: queue.Queue, deadline: float) -> dict[str, Any] | None:
    return q.get(timeout=max(0.01, deadline - time.monotonic()))


def test_present_pauses_at_each_narration_step_until_continue(tmp_path: Path) -> None:
    engine = EngineProcess(
        resolve("producer-consumer"), tmp_path / "t.jsonl", quick=True, present=True
    )
    q: queue.Queue[dict[str, Any] | None] = queue.Queue()
    thread = threading.Thread(target=_reader, args=(engine, q), daemon=True)
    thread.start()
    narrated: list[str] = []
    held_checked = 0
    events: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 60
        header = _next(q, deadline)
        assert header is not None and header.get("present") is True
        at_gate: set[int] = set()  # pids whose gate.wait is in the stream, not released yet
        while (event := _next(q, deadline)) is not None:
            events.append(event)
            _track(event, at_gate)
            if event["kind"] == "narrate":
                narrated.append(event["step"])
            if event["kind"] == "gate.wait" and event.get("op") == "narrate":
                pid = event["pid"]
                # Held: every operation needs the engine's release (gate.step); from here on
                # only those already waiting when the step arrived may still be let through
                # (same engine batch), nobody else, until we continue.
                # And the world is still: once those few finished (settle), no operation at
                # all happens on any object.
                may_go = set(at_gate) - {pid}
                settle = time.monotonic() + 0.5
                quiet_until = settle + 0.4
                while time.monotonic() < quiet_until:
                    try:
                        extra = q.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    assert extra is not None and extra["kind"] != "narrate", extra
                    events.append(extra)
                    if extra["kind"] == "gate.step":
                        assert extra["pid"] in may_go, ("released during the hold", extra)
                        may_go.discard(extra["pid"])
                    _track(extra, at_gate)
                    if time.monotonic() > settle:
                        assert not extra["kind"].startswith(OPERATIONS), extra
                info = probe.blocked_on(pid)
                assert info is not None and info.target is not None
                assert info.target.kind == "fd", info
                held_checked += 1
                engine.send("continue")
        rc = engine.wait(30)
    finally:
        engine.terminate()
        engine.close()
        thread.join(5)
    assert rc == 0
    # ("mutex" is narrated only when producer1 happens to fill cell 0)
    assert narrated[:2] == ["setup", "fill"] and narrated[-2:] == ["drain", "done"], narrated
    assert held_checked == len(narrated)
    released = [e for e in events if e["kind"] == "gate.step" and e.get("by") == "presenter"]
    assert len(released) == len(narrated)
    assert events[-1]["kind"] == "session.end"


def test_continue_without_present_is_refused(tmp_path: Path) -> None:
    engine = EngineProcess(resolve("pipe-basic"), tmp_path / "t.jsonl", quick=True)
    refused = []
    try:
        for event in engine.events():
            if event.get("kind") == "proc.start" and not refused:
                engine.send("continue")
                refused.append(True)
            if event.get("kind") == "control" and event.get("action") == "continue":
                refused.append(event)
        assert engine.wait(30) == 0
    finally:
        engine.terminate()
        engine.close()
    msgs = [e for e in refused if isinstance(e, dict)]
    assert msgs and msgs[0]["ok"] is False and "not in presenter mode" in msgs[0]["reason"]


def test_continue_lets_go_only_the_step_on_the_screen(tmp_path: Path) -> None:
    """→ names the process whose step the screen shows: a continue for another (a step
    that arrived since and was never drawn) is refused, and nothing goes."""
    engine = EngineProcess(resolve("pipe-basic"), tmp_path / "t.jsonl", quick=True, present=True)
    said: list[dict[str, Any]] = []
    first = True
    try:
        for event in engine.events():
            if event.get("kind") == "gate.wait" and event.get("op") == "narrate":
                if first:
                    engine.send("continue", pid=event["pid"] + 1_000_000)  # not on screen
                    first = False
                engine.send("continue", pid=event["pid"])
            elif (event.get("kind"), event.get("action"), event.get("by")) in (
                ("control", "continue", None),
                ("gate.step", None, "presenter"),
            ):
                said.append(event)
        assert engine.wait(30) == 0
    finally:
        engine.terminate()
        engine.close()
    assert said[0]["kind"] == "control" and said[0]["ok"] is False, said[:2]
    assert "not the one waiting" in said[0]["reason"]
    assert said[1]["kind"] == "gate.step"  # then the step shown goes on
    assert all(e["kind"] == "gate.step" for e in said[1:]), said


def test_time_held_for_the_presenter_does_not_count_against_the_timeout(tmp_path: Path) -> None:
    """A 3 s run limit, and the presenter talks 4 s at the first step: the run still passes."""
    engine = EngineProcess(
        resolve("producer-consumer"),
        tmp_path / "t.jsonl",
        timeout=3.0,
        quick=True,
        present=True,
    )
    end: dict[str, Any] | None = None
    first = True
    try:
        for event in engine.events():
            if event.get("kind") == "gate.wait" and event.get("op") == "narrate":
                if first:
                    time.sleep(4.0)  # the presenter explains (longer than the run's limit)
                    first = False
                engine.send("continue")
            elif event.get("kind") == "session.end":
                end = event
        rc = engine.wait(30)
    finally:
        engine.terminate()
        engine.close()
    assert end is not None and end["outcome"] == "passed", end
    assert rc == 0


def test_step_mode_off_lets_nobody_go_while_a_narration_is_on_the_screen(tmp_path: Path) -> None:
    """Presenter mode and step mode: A's narration is continued and A waits at its next
    operation's gate while B's narration is on the screen. Step mode off must not let A go
    (the narration holds the world); the next → (B's) does. Every step is a command
    answered in order, so no sleep decides it: the marker command's refusal comes after
    whatever step mode's end let go."""
    engine = EngineProcess(
        resolve("sysv-mq-typed"), tmp_path / "t.jsonl", quick=True, present=True, step=True
    )
    held: list[int] = []  # pids whose narration is held, in the stream's order
    a: int | None = None
    phase = "narrations"
    after_off: list[dict[str, Any]] = []
    try:
        for event in engine.events():
            kind = event.get("kind")
            if phase == "narrations" and kind == "gate.wait" and event.get("op") == "narrate":
                held.append(event["pid"])
                if len(held) == 2:
                    a = held[0]
                    engine.send("continue", pid=a)
                    phase = "a moves"
            elif phase == "a moves" and kind == "gate.wait" and event["pid"] == a:
                assert event.get("op") != "narrate", event
                engine.send("step_mode", on=False)
                engine.send("step")  # the marker: refused, "not in step mode"
                phase = "off"
            elif phase == "off":
                after_off.append(event)
                if kind == "control" and event.get("action") == "step":
                    assert event["ok"] is False
                    assert not [e for e in after_off if e.get("kind") == "gate.step"], after_off
                    engine.send("continue", pid=held[1])
                    phase = "free"
            elif phase == "free":
                if kind == "gate.step" and event["pid"] == a:
                    phase = "a went"
                if kind == "gate.wait" and event.get("op") == "narrate":
                    engine.send("continue", pid=event["pid"])
            elif phase == "a went" and kind == "gate.wait" and event.get("op") == "narrate":
                engine.send("continue", pid=event["pid"])
        assert engine.wait(30) == 0
    finally:
        engine.terminate()
        engine.close()
    assert phase == "a went"
