"""Hostile traces: well-formed JSON that is not what ipcviz wrote.

Two families, each trace a ``(header, events, expected exit code)``:

- *escapes* (exit 0): a consistent trace that uses every event kind, with escape codes
  (``ESC[2J``, OSC 0 … BEL, the C1 byte 0x9b, bidi overrides) or Rich markup in every
  string field: header, object and process names, types, kinds, drift fields, session.end
  fields, report keys, texts; payload bytes with the same codes;
- *wrong types* (exit 2): one wrong field per event kind (a string where a number goes, a
  number where a string goes, undecodable base64, an out-of-range number, an object never
  declared or of the wrong type), and wrong header fields.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ipcviz.events.validate import KINDS

Event = dict[str, Any]
Trace = tuple[dict[str, Any], list[Event], int]

#: Clear screen, OSC 0 (window title) ended by BEL, CSI as the C1 byte, a bidi override.
ESC = "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202e"
C1 = "\x85\x90\x9b\x9c\x9d\u2066"
MARKUP = "[bold red]x[/][link=http://x]y[/link]"
A, B = 101, 102


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def base_trace() -> tuple[dict[str, Any], list[Event]]:
    """A consistent trace using every event kind ipcviz knows, with plain strings."""
    header = {
        "format": "ipcviz-trace",
        "version": 1,
        "scenario": {
            "id": "hostile",
            "title": "hostile title",
            "teaches": ["T1", "T2"],
            "description": "about",
            "steps": [
                {"id": "one", "en": "step one", "ko": "하나", "teaches": ["T1"]},
                {"id": "two", "en": "step two", "teaches": []},
            ],
            "processes": ["a", "b"],
            "checks": ["ok"],
            "params": {"k": "v"},
        },
        "session": "s",
        "start": "2026-11-29T00:00:00+00:00",
        "host": "host",
        "quick": True,
        "lang": "en",
    }
    data = _b64(b"hi\x1b[2J\x07\x9b")
    esc8, c1x8 = _b64(b"\x1b" * 8), _b64(b"\x9b" * 8)
    ev: list[Event] = [
        {"pid": 0, "kind": "obj.declare", "obj": "p", "type": "pipe", "kernel_name": "pipe:[1]",
         "capacity": 65536, "readers": ["b"], "writers": ["a"]},
        {"pid": 0, "kind": "obj.declare", "obj": "f", "type": "fifo", "kernel_name": "/tmp/f",
         "path": "/tmp/f"},
        {"pid": 0, "kind": "obj.declare", "obj": "m", "type": "posix_shm", "kernel_name": "/m",
         "size": 64, "cells": 8, "cell_size": 8},
        {"pid": 0, "kind": "obj.declare", "obj": "s", "type": "posix_sem", "kernel_name": "/s",
         "value": 1},
        {"pid": 0, "kind": "obj.declare", "obj": "q", "type": "posix_mq", "kernel_name": "/q",
         "max_messages": 4, "max_message_size": 64},
        {"pid": 0, "kind": "obj.declare", "obj": "v", "type": "sysv_mq", "kernel_name": "key 1",
         "max_bytes": 1024},
        {"pid": 0, "kind": "obj.declare", "obj": "y", "type": "sysv_sem", "kernel_name": "key 2",
         "value": 0},
        {"pid": A, "kind": "proc.start", "name": "a", "color": 0},
        {"pid": B, "kind": "proc.start", "name": "b", "color": 1, "command": ["cat", "-v"]},
        {"pid": A, "kind": "narrate", "step": "one"},
        {"pid": A, "kind": "pipe.write.begin", "obj": "p", "n": 8},
        {"pid": A, "kind": "pipe.write", "obj": "p", "n": 8, "size": 8, "data": data},
        {"pid": B, "kind": "pipe.read.begin", "obj": "p", "max": 100},
        {"pid": B, "kind": "pipe.read", "obj": "p", "n": 8, "data": data},
        {"pid": A, "kind": "pipe.close", "obj": "p", "end": 1},
        {"pid": A, "kind": "pipe.epipe", "obj": "p", "n": 1},
        {"pid": B, "kind": "pipe.open.begin", "obj": "f", "end": 0},
        {"pid": B, "kind": "pipe.open", "obj": "f", "end": 0, "fd": 5},
        {"pid": A, "kind": "shm.write", "obj": "m", "offset": 8, "value": 7, "data": esc8},
        {"pid": B, "kind": "shm.read", "obj": "m", "offset": 8, "value": 7, "data": c1x8},
        {"pid": A, "kind": "sem.wait.begin", "obj": "s"},
        {"pid": A, "kind": "sem.wait", "obj": "s"},
        {"pid": A, "kind": "sem.post", "obj": "s"},
        {"pid": B, "kind": "sem.trywait", "obj": "y", "ok": 0},
        {"pid": A, "kind": "mq.send.begin", "obj": "q", "prio": 1, "n": 8},
        {"pid": A, "kind": "mq.send", "obj": "q", "prio": 1, "size": 8, "data": data},
        {"pid": B, "kind": "mq.recv.begin", "obj": "v", "want": -5},
        {"pid": A, "kind": "mq.send", "obj": "v", "mtype": 2, "size": 8, "data": data},
        {"pid": B, "kind": "mq.recv", "obj": "v", "mtype": 2, "size": 8, "data": data},
        {"pid": B, "kind": "mq.poll", "obj": "q", "ready": True},
        {"pid": B, "kind": "mq.notify", "obj": "q"},
        {"pid": A, "kind": "report", "key": "count", "value": {"nested": ["x", 1]}},
        {"pid": 0, "kind": "control", "action": "step_mode", "on": True, "seed": 3,
         "schedule": "a,b"},
        {"pid": A, "kind": "gate.wait", "op": "sem.wait", "obj": "s"},
        {"pid": A, "kind": "gate.step", "op": "sem.wait", "obj": "s", "by": "user"},
        {"pid": 0, "kind": "control", "action": "step", "ok": False, "reason": "not at gate"},
        {"pid": 0, "kind": "control", "action": "freeze"},
        {"pid": 0, "kind": "control", "action": "resume"},
        {"pid": 0, "kind": "control", "action": "dance", "how": "wildly"},
        {"pid": 0, "kind": "drift", "obj": "p", "field": "nbytes", "model": 1, "kernel": "2"},
        {"pid": 0, "kind": "drift", "obj": "p", "resolved": True},
        {"pid": 0, "kind": "deadlock", "cycle": [
            {"proc": "a", "pid": A, "waits_for": "s", "held_by": "b", "held_by_pid": B},
            {"proc": "b", "pid": B, "waits_for": "y", "held_by": "a", "held_by_pid": A}]},
        {"pid": 0, "kind": "control", "action": "kill", "target": B, "reason": "deadlock"},
        {"pid": 0, "kind": "deadlock.resolved"},
        {"pid": 0, "kind": "deadlock.recover", "obj": "s", "n": 1, "victim": B},
        {"pid": B, "kind": "holder.died", "obj": "s", "holder": B, "proc": "b", "n": 1,
         "value": 0, "waiters": [{"pid": A, "proc": "a"}]},
        {"pid": B, "kind": "sem.undo", "obj": "y", "n": 1},
        {"pid": 0, "kind": "race.lost_update", "obj": "m", "offset": 8, "missing": 1,
         "lost": {"proc": "a", "pid": A, "read": 1, "read_seq": 1, "wrote": 2, "write_seq": 3},
         "by": {"proc": "b", "pid": B, "read": 1, "read_seq": 2, "wrote": 2, "write_seq": 4}},
        {"pid": A, "kind": "probe.proc", "state": "sleeping", "cpu_percent": 1.5, "cpu_num": 0,
         "rss": 1000, "wchan": "pipe_read", "syscall": "read", "blocked_on": "p"},
        {"pid": 0, "kind": "probe.pipe", "obj": "p", "nbytes": 8, "capacity": 65536,
         "data": data},
        {"pid": 0, "kind": "probe.posix_mq", "obj": "q", "current_messages": 1,
         "max_messages": 4, "max_message_size": 64},
        {"pid": 0, "kind": "probe.sysv_mq", "obj": "v", "qnum": 1, "cbytes": 8, "qbytes": 1024,
         "lspid": A, "lrpid": B, "stime": 1, "rtime": 2, "messages": [[2, data]]},
        {"pid": 0, "kind": "probe.sem", "obj": "s", "value": 1, "waiters": 0},
        {"pid": 0, "kind": "probe.shm", "obj": "m", "size": 64, "data": data,
         "addresses": {str(A): 4096, str(B): "0x2000"}},
        {"pid": A, "kind": "proc.output", "data": data},
        {"pid": B, "kind": "proc.error", "text": "Traceback\n  File x\nValueError: bad"},
        {"pid": A, "kind": "check", "description": "it works", "ok": True, "detail": "fine"},
        # a traced command: it runs another program, uses memory unseen, is seen by probes
        {"pid": B, "kind": "proc.exec", "name": "grep", "command": ["grep", "-c", "x y"]},
        {"pid": A, "kind": "notice", "reason": "unseen-use", "obj": "m", "name": "m",
         "message": "process 101 uses m"},
        {"pid": 0, "kind": "notice", "reason": "no-strace", "message": "no strace"},
        {"pid": 0, "kind": "notice", "reason": "attach-missed", "name": "late",
         "message": "process 7 (late) started while ipcviz attached"},
        {"pid": 0, "kind": "notice", "reason": "from-the-future", "message": "a new reason"},
        {"pid": 0, "kind": "order.conflict", "message": "no legal order"},
        {"pid": 0, "kind": "order.late", "message": "late line", "late_ns": 5},
        {"pid": 0, "kind": "program.leftover", "obj": "q", "message": "ipcrm -Q 'q'"},
        {"pid": 0, "kind": "tracer.stall", "count": 2},
        {"pid": 0, "kind": "error", "message": "a limit"},
        {"pid": 0, "kind": "recording.stopped", "message": "disk full"},
        {"pid": A, "kind": "narrate", "step": "two"},
        {"pid": A, "kind": "proc.exit", "code": 0},
        {"pid": B, "kind": "proc.exit", "signal": 9, "signame": "SIGKILL"},
        {"pid": 0, "kind": "obj.remove", "obj": "p"},
        {"pid": 0, "kind": "session.end", "outcome": "passed", "exit_code": 0,
         "reason": "done", "events": 70},
    ]  # fmt: skip
    for i, e in enumerate(ev):
        e["t"], e["seq"] = 1000 * (i + 1), i
    return header, ev


#: Strings that are references or payloads: changing them alone would break the trace
#: (consistent renaming keeps references valid; ``kind``, ``type`` and base64 stay).
_KEEP = {"kind", "type", "data", "signame", "action", "op", "outcome"}


def _everywhere(value: Any, mark: str, key: str = "") -> Any:
    """Every string in ``value`` with ``mark`` appended, consistently (names still match)."""
    if isinstance(value, str):
        return value if key in _KEEP else value + mark
    if isinstance(value, list):
        if key == "messages":  # probe.sysv_mq: [[mtype, base64]]
            return value
        return [_everywhere(v, mark, key) for v in value]
    if isinstance(value, dict):  # keys stay: field names (and pids in ``addresses``)
        return {k: v if k == "format" else _everywhere(v, mark, k) for k, v in value.items()}
    return value


def escapes() -> dict[str, Trace]:
    """Hostile strings in every field of a consistent trace: it must replay (exit 0)."""
    out: dict[str, Trace] = {}
    for name, mark in (("esc", ESC), ("c1", C1), ("markup", MARKUP)):
        header, events = base_trace()
        out[f"{name}-everywhere"] = (_everywhere(header, mark), _everywhere(events, mark), 0)
    header, events = base_trace()
    events.insert(-1, {"t": 10**9, "seq": 900, "pid": A, "kind": "x" + ESC,
                       ESC: ESC, "list": [ESC, {ESC: C1}], "obj": ESC})  # fmt: skip
    out["unknown-kind"] = (header, events, 0)
    header, events = base_trace()
    events.insert(1, {"t": 1, "seq": 901, "pid": 0, "kind": "obj.declare", "obj": ESC,
                      "type": ESC + C1, "kernel_name": ESC, "discovered": True})  # fmt: skip
    events.insert(2, {"t": 2, "seq": 902, "pid": 0, "kind": "probe.pipe", "obj": ESC,
                      ESC: C1})  # fmt: skip
    out["unknown-type"] = (header, events, 0)
    header, events = base_trace()
    for e in events:
        if e["kind"] == "session.end":
            e.update(outcome=ESC, reason=C1 + MARKUP)
        elif e["kind"] == "drift" and not e.get("resolved"):
            e.update(field=ESC, model=[ESC], kernel={C1: ESC})
        elif e["kind"] == "report":
            e.update(key=ESC + MARKUP, value=C1)
        elif e["kind"] == "proc.exit" and "signame" in e:
            e["signame"] = ESC
        elif e["kind"] in ("gate.wait", "gate.step"):
            e["op"] = C1
        elif e["kind"] == "control" and e.get("action") == "dance":
            e["action"] = ESC
    out["end-drift-report"] = (header, events, 0)
    return out


def _wrong(check: Callable[[Any], str | None]) -> Any:
    """A value of the wrong type (or out of range) for a field checked by ``check``."""
    return next(v for v in ("x", 5, "abc", [1], {"a": 1}, 2**70) if check(v) is not None)


def wrong_types() -> dict[str, Trace]:
    """One wrong field per event kind, and wrong header fields: exit 2, one line."""
    out: dict[str, Trace] = {}
    header, events = base_trace()
    by_kind = {}
    for i, e in enumerate(events):
        by_kind.setdefault(e["kind"], i)
    for kind, spec in KINDS.items():
        fields, required = spec.fields, spec.required
        if not fields and not required:
            continue  # nothing in it can be wrong (``deadlock.resolved``)
        header, events = base_trace()
        if kind not in by_kind:
            i = len(events) - 1
            events.insert(i, {"t": 5, "seq": 999, "pid": A, "kind": kind})
        else:
            i = by_kind[kind]
        e = events[i]
        if required and (not fields or kind not in by_kind or len(out) % 2 == 0):
            e.pop(required[-1], None)  # a field the views cannot do without, missing
            what = f"no-{required[-1]}"
        else:
            name = next(iter(fields))
            e[name] = _wrong(fields[name])
            what = f"bad-{name}"
        out[f"{kind}-{what}"] = (header, events, 2)
    for name, change in _more_wrongs().items():
        header, events = base_trace()
        change(header, events)
        out[name] = (header, events, 2)
    return out


def _at(events: list[Event], kind: str) -> Event:
    return next(e for e in events if e["kind"] == kind)


def _more_wrongs() -> dict[str, Callable[[dict[str, Any], list[Event]], None]]:
    return {
        "header-steps-not-a-list": lambda h, ev: h["scenario"].update(steps="x"),
        "header-teaches-numbers": lambda h, ev: h["scenario"].update(teaches=[1, 2]),
        "header-step-without-id": lambda h, ev: h["scenario"]["steps"][0].pop("id"),
        "header-title-object": lambda h, ev: h["scenario"].update(title={"a": 1}),
        "header-ran-numbers": lambda h, ev: h.update(ran=[1, 2]),
        "header-ran-a-string": lambda h, ev: h.update(ran="lab.c"),
        "header-program-an-object": lambda h, ev: h.update(program={"a": 1}),
        "t-too-big": lambda h, ev: ev[3].update(t=10**30),
        "seq-a-string": lambda h, ev: ev[3].update(seq="3"),
        "pid-a-list": lambda h, ev: ev[3].update(pid=[1]),
        "kind-a-number": lambda h, ev: ev[3].update(kind=7),
        "obj-an-object": lambda h, ev: _at(ev, "probe.pipe").update(obj={"a": 1}),
        "write-to-undeclared": lambda h, ev: _at(ev, "pipe.write").update(obj="nope"),
        "post-to-a-pipe": lambda h, ev: _at(ev, "sem.post").update(obj="p"),
        "shm-without-size": lambda h, ev: _at(ev, "obj.declare").update(
            type="posix_shm", size=None
        ),
        "pipe-end-7": lambda h, ev: _at(ev, "pipe.close").update(end=7),
        "n-huge": lambda h, ev: _at(ev, "pipe.write").update(n=2**62),
        "cycle-of-numbers": lambda h, ev: _at(ev, "deadlock").update(cycle=[1, 2]),
        "not-an-object": lambda h, ev: ev.insert(3, [1, 2, 3]),  # type: ignore[arg-type]
    }


def every_trace() -> dict[str, Trace]:
    return {**escapes(), **wrong_types()}


def write(path: Path, trace: Trace) -> Path:
    header, events, _ = trace
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps(e, ensure_ascii=False) for e in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clone(trace: Trace) -> Trace:
    return copy.deepcopy(trace)
