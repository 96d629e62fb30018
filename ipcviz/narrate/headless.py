"""The headless narrator: one plain-text line per event, a function of the events alone.

So a live run and its replay print the same log, line for line. Payload bytes and every
string from the trace (names, types, kinds, titles, reasons, report keys) go through
``bytefmt``: nothing a process wrote, nor a hostile trace, can act on the terminal. As a
last guard every line leaves :meth:`Narrator.feed` / :meth:`Narrator.intro` printable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ipcviz import bytefmt
from ipcviz.events.codec import payload
from ipcviz.model.reducer import apply
from ipcviz.model.state import State

Event = dict[str, Any]
END = ("read end", "write end")
DIRECTION = ("reading", "writing")


def safe(text: str, limit: int | None = 200) -> str:
    """Untrusted text (tracebacks, titles, narration from a trace file) made inert."""
    return bytefmt.safe_text(text, limit)


def _s(value: Any, limit: int | None = 80) -> str:
    """Any value from a trace (a name, a number, a list) as inert text."""
    return bytefmt.safe_text(value if isinstance(value, str) else str(value), limit)


def _o(e: Event) -> str:
    """The event's object name, inert."""
    return _s(e.get("obj", "?"), 60)


def inert(line: str) -> str:
    """The last guard: a line with anything unprintable is escaped as a whole."""
    return line if line.isprintable() else bytefmt.safe_text(line)


class Narrator:
    """Feed events in order; get back the lines to print."""

    def __init__(self, header: dict[str, Any], lang: str = "en") -> None:
        self.lang = lang
        self.state = State(header=header)
        self.steps = {s["id"]: s for s in header.get("scenario", {}).get("steps", [])}

    def intro(self) -> list[str]:
        sc = self.state.header.get("scenario", {})
        teaches = " ".join(_s(t, 40) for t in sc.get("teaches", []))
        lines = [f"ipcviz · {_s(sc.get('id', '?'))} · {safe(sc.get('title', ''))}"]
        if teaches:
            lines.append(f"teaches: {teaches}")
        return [inert(line) for line in lines]

    def feed(self, event: Event) -> list[str]:
        kind = event["kind"]
        if kind.startswith("probe."):
            apply(self.state, event)
            return []
        who = self._who(event)
        apply(self.state, event)
        fn = _FORMATS.get(kind)
        text = _s(kind, 60) + _fields(event) if fn is None else fn(self, event)
        if text is None:
            return []
        stamp = f"{event['t'] / 1e9:9.4f}s"
        out = []
        for i, line in enumerate(text.split("\n")):
            out.append(inert(f"{stamp if i == 0 else ' ' * len(stamp)}  {who:<12} {line}"))
        return out

    def _who(self, event: Event) -> str:
        pid = event.get("pid", 0)
        if not pid:
            return "·"
        name = self.state.proc_name(pid) if pid in self.state.procs else event.get("name", "?")
        return f"{_s(name, 40)}[{pid}]"

    def step_text(self, step_id: str) -> str:
        step = self.steps.get(step_id)
        if step is None:
            return _s(step_id)
        text = step.get("ko") if self.lang == "ko" and step.get("ko") else step.get("en", "")
        tags = " ".join(_s(t, 40) for t in step.get("teaches", []))
        return f"── {safe(text.strip(), None)}" + (f"  ({tags})" if tags else "")


def _fields(e: Event) -> str:
    skip = {"t", "seq", "pid", "kind", "data"}
    parts = [f"{_s(k, 40)}={_s(v, 200)}" for k, v in e.items() if k not in skip]
    if "data" in e:
        parts.append(bytefmt.quoted(payload(e)))
    return (" " + " ".join(parts)) if parts else ""


def _data(e: Event) -> str:
    return bytefmt.quoted(payload(e))


def _declare(n: Narrator, e: Event) -> str:
    extra = {
        k: v
        for k, v in e.items()
        if k in ("capacity", "cells", "size", "value", "max_messages", "path")
    }
    desc = ", ".join(f"{k} {_s(v, 200)}" for k, v in extra.items())
    return f"creates {_s(e['type'], 40)} {_o(e)} ({safe(e.get('kernel_name', ''))})" + (
        f": {desc}" if desc else ""
    )


def _exit(n: Narrator, e: Event) -> str:
    if "signal" in e:
        return f"killed by {_s(e.get('signame', e['signal']), 40)}"
    return f"exits with code {e.get('code')}"


def _pipe_write(n: Narrator, e: Event) -> str:
    return f"wrote {e['n']} B to {_o(e)}: {_data(e)}"


def _pipe_read(n: Narrator, e: Event) -> str:
    if e["n"] == 0:
        return f"read EOF from {_o(e)} (no writer left)"
    return f"read {e['n']} B from {_o(e)}: {_data(e)}"


def _shm(verb: str) -> Callable[[Narrator, Event], str]:
    def fmt(n: Narrator, e: Event) -> str:
        obj = n.state.objects.get(e.get("obj", ""))
        size = getattr(obj, "cell_size", 8)
        return f"{verb} {_o(e)}[{e.get('offset', 0) // size}] = {e.get('value')}"

    return fmt


def _check(n: Narrator, e: Event) -> str:
    mark = "✓" if e["ok"] else "✗"
    detail = f": {safe(e['detail'])}" if e.get("detail") else ""
    return f"check {mark} {safe(e['description'])}{detail}"


def _end(n: Narrator, e: Event) -> str:
    reason = f" ({safe(e['reason'])})" if e.get("reason") else ""
    outcome = _s(e.get("outcome"), 40).upper()
    return f"result: {outcome}{reason}, exit code {e.get('exit_code')}"


def _control(n: Narrator, e: Event) -> str:
    action = e.get("action")
    if action == "kill" and e.get("reason") == "deadlock":
        return f"ends the deadlock: kills {_s(n.state.proc_name(e.get('target', 0)), 40)}"
    if action == "kill":
        return f"user kills {_s(n.state.proc_name(e.get('target', 0)), 40)}"
    if action == "step_mode":
        how = "".join(f", {k} {safe(str(e[k]), 200)}" for k in ("seed", "schedule") if k in e)
        return f"step mode {'on' if e.get('on') else 'off'}{how}"
    if action == "present":
        return "presenter mode: the run pauses at every narration step"
    if action in ("continue", "step") and e.get("ok") is False:
        return f"{_s(action)} refused: {safe(str(e.get('reason', '')), 200)}"
    if action in ("freeze", "resume"):
        return {
            "freeze": "user freezes every process (SIGSTOP)",
            "resume": "user resumes every process (SIGCONT)",
        }[action]
    return f"user: {_s(action)}" + _fields({k: v for k, v in e.items() if k != "action"})


def _mq_tag(e: Event) -> str:
    return f" (type {e['mtype']})" if "mtype" in e else f" (priority {e.get('prio', 0)})"


def _mq_want(n: Narrator, e: Event) -> str:
    obj = n.state.objects.get(e.get("obj", ""))
    want = e.get("want") or 0
    if obj is None or obj.type != "sysv_mq":
        return ""
    if want == 0:
        return " (any type)"
    return f" (type {want})" if want > 0 else f" (lowest type <= {-want})"


def _mq_depth(n: Narrator, e: Event) -> str:
    obj = n.state.objects.get(e.get("obj", ""))
    count = len(getattr(obj, "messages", ()))
    return f" [{count} queued]"


def _gate_step(n: Narrator, e: Event) -> str | None:
    if e.get("by") == "free":
        return None  # released because step mode went off: nothing was chosen
    on = f" on {_o(e)}" if e.get("obj") else ""
    return f"goes: {_s(e.get('op'), 40)}{on} (step: {safe(str(e.get('by', '')), 40)})"


def _deadlock(n: Narrator, e: Event) -> str:
    from ipcviz.model.analysis.waitfor import cycle_text

    cycle = e.get("cycle") or []
    return f"DEADLOCK: {safe(cycle_text(cycle), None)} — a cycle: nobody in it can move (T34)"


def _lost_update(n: Narrator, e: Event) -> str:
    from ipcviz.model.analysis.races import describe

    obj = n.state.objects.get(e.get("obj", ""))
    return "LOST UPDATE: " + safe(describe(e, getattr(obj, "cell_size", 8)), None)


def _drift(n: Narrator, e: Event) -> str:
    if e.get("resolved"):
        return f"drift resolved on {_o(e)}"
    return (
        f"DRIFT on {_o(e)}: {_s(e.get('field'), 40)} model={_s(e.get('model'))} "
        f"kernel={_s(e.get('kernel'))}"
    )


_FORMATS: dict[str, Callable[[Narrator, Event], str | None]] = {
    "obj.declare": _declare,
    "obj.remove": lambda n, e: f"removes {_o(e)}",
    "proc.start": lambda n, e: (
        "starts" + (f": {safe(' '.join(e['command']))}" if e.get("command") else "")
    ),
    "proc.exit": _exit,
    "recording.stopped": lambda n, e: f"recording stopped: {safe(e.get('message', ''))}",
    "proc.error": lambda n, e: (
        "raised an exception:\n"
        + "\n".join(safe(line, None) for line in e.get("text", "").rstrip().splitlines())
    ),
    "proc.output": lambda n, e: (
        "| " + "\n| ".join(bytefmt.escape(line) for line in payload(e).rstrip(b"\n").split(b"\n"))
    ),
    "narrate": lambda n, e: n.step_text(e.get("step", "")),
    "report": lambda n, e: f"reports {_s(e.get('key'), 60)} = {safe(repr(e.get('value')), 120)}",
    "pipe.write.begin": lambda n, e: f"writes {e.get('n', '?')} B to {_o(e)}…",
    "pipe.write": _pipe_write,
    "pipe.read.begin": lambda n, e: f"reads from {_o(e)}…",
    "pipe.read": _pipe_read,
    "pipe.close": lambda n, e: f"closes the {END[e.get('end', 0)]} of {_o(e)}",
    "pipe.epipe": lambda n, e: f"write to {_o(e)} failed: EPIPE (no reader left)",
    "pipe.open.begin": lambda n, e: f"opens {_o(e)} for {DIRECTION[e.get('end', 0)]}…",
    "pipe.open": lambda n, e: f"opened {_o(e)} for {DIRECTION[e.get('end', 0)]}",
    "shm.read": _shm("reads"),
    "shm.write": _shm("writes"),
    "sem.wait.begin": lambda n, e: f"waits on {_o(e)}…",
    "sem.wait": lambda n, e: f"took {_o(e)} (value now {n.state.objects[e['obj']].value})",
    "sem.post": lambda n, e: f"posts {_o(e)} (value now {n.state.objects[e['obj']].value})",
    "sem.trywait": lambda n, e: f"try-waits {_o(e)}: {'took it' if e.get('ok') else 'busy'}",
    "mq.send.begin": lambda n, e: f"sends {e.get('n')} B to {_o(e)}{_mq_tag(e)}…",
    "mq.send": lambda n, e: f"sent to {_o(e)}{_mq_tag(e)}: {_data(e)}{_mq_depth(n, e)}",
    "mq.recv.begin": lambda n, e: f"receives from {_o(e)}{_mq_want(n, e)}…",
    "mq.recv": lambda n, e: f"received from {_o(e)}{_mq_tag(e)}: {_data(e)}{_mq_depth(n, e)}",
    "mq.poll": lambda n, e: f"polls {_o(e)}: {'message waiting' if e.get('ready') else 'empty'}",
    "control": _control,
    "check": _check,
    "session.end": _end,
    "error": lambda n, e: f"ERROR: {safe(e.get('message', ''), None)}",
    "tracer.stall": lambda n, e: f"tracer ring full: waited {_s(e.get('count'), 40)} time(s)",
    "drift": _drift,
    "gate.wait": lambda n, e: None,  # shown by the TUI; "goes:" below says who moved
    "gate.step": _gate_step,
    "deadlock": _deadlock,
    "deadlock.resolved": lambda n, e: "the deadlock is broken",
    "deadlock.recover": lambda n, e: (
        f"posts {_o(e)} {e.get('n', 1)}x for killed {_s(n.state.proc_name(e.get('victim', 0)), 40)}"
        " (POSIX semaphores are not released when their holder dies)"
    ),
    "race.lost_update": _lost_update,
}
