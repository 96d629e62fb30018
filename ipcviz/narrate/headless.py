"""The headless narrator: one plain-text line per event, a function of the events alone.

So a live run and its replay print the same log, line for line. Payload bytes go through
``bytefmt``: nothing a process wrote can act on the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ipcviz import bytefmt
from ipcviz.events.codec import payload
from ipcviz.mechanisms import registry
from ipcviz.model.reducer import apply
from ipcviz.model.state import State

Event = dict[str, Any]


def safe(text: str, limit: int | None = 200) -> str:
    """Untrusted text (tracebacks, titles, narration from a trace file) made inert."""
    return bytefmt.safe_text(text, limit)


@dataclass(slots=True)  # not frozen: a frozen init costs a setattr call per field, per event
class Entry:
    """One event as told, worded right after it was applied: the values in ``text`` are
    the ones of that moment, so a log kept of entries never shows a later state."""

    t: int
    pid: int
    obj: str | None
    kind: str
    who: str  # ``name[pid]`` (inert) or ``·``
    text: str  # inert; more than one line for tracebacks and multi-line output
    step: str | None = None  # ``narrate``: the step id (re-worded when the language changes)

    def lines(self) -> list[str]:
        """The headless log's lines: time, who, then the text (continuations indented).
        Made inert here, as the TUI does when it draws: a wording may carry trace fields
        (object names, drift values) as they are."""
        stamp = f"{self.t / 1e9:9.4f}s"
        if "\n" not in self.text:  # nearly every event: one line, no list to build
            return [f"{stamp}  {self.who:<12} {safe(self.text, None)}"]
        return [
            f"{stamp if i == 0 else ' ' * len(stamp)}  {self.who:<12} {safe(line, None)}"
            for i, line in enumerate(self.text.split("\n"))
        ]


class Narrator:
    """Feed events in order; get back the lines to print.

    ``state`` is the model the events are applied to: its own by default, or one the caller
    owns (the TUI's session screen), so each event is worded from the state it produced."""

    def __init__(
        self, header: dict[str, Any], lang: str = "en", state: State | None = None
    ) -> None:
        self.lang = lang
        self.state = state if state is not None else State(header=header)
        self.steps = {s["id"]: s for s in header.get("scenario", {}).get("steps", [])}
        self._names: dict[int, tuple[str, str]] = {}  # pid -> (name, inert "name[pid]")

    def intro(self) -> list[str]:
        sc = self.state.header.get("scenario", {})
        teaches = " ".join(safe(str(t), 40) for t in sc.get("teaches", []))
        lines = [f"ipcviz · {safe(str(sc.get('id', '?')), 80)} · {safe(sc.get('title', ''))}"]
        if teaches:
            lines.append(f"teaches: {teaches}")
        return lines

    def feed(self, event: Event) -> list[str]:
        entry = self.entry(event)
        return [] if entry is None else entry.lines()

    def entry(self, event: Event) -> Entry | None:
        """Apply ``event`` to the state and word it from the state right after: the one
        formatter of the headless log, the TUI's event log and the handouts.
        None: the event is not told (probes, gate waits)."""
        kind = event["kind"]
        if kind.startswith("probe."):
            obj = self.state.objects.get(event.get("obj", ""))
            first = obj is not None and obj.outside and not obj.kernel
            apply(self.state, event)
            if not first:
                return None
            # found at attach: what it held then is known from this reading only; said once
            text = _first_reading(event)
            return None if text is None else Entry(event["t"], 0, event["obj"], kind, "·", text)
        who = self._who(event)
        apply(self.state, event)
        fn = _FORMATS.get(kind)
        try:
            text = _raw(event) if fn is None else fn(self, event)
        except Exception:  # fields a hand-made trace left out: tell it raw, never crash
            text = _raw(event)
        if text is None:
            return None
        obj = event.get("obj")
        return Entry(  # positional: this runs for every event of a flood
            event["t"],
            event.get("pid") or 0,
            obj if type(obj) is str else None,
            kind,
            who,
            text,
            str(event.get("step", "")) if kind == "narrate" else None,
        )

    def _who(self, event: Event) -> str:
        pid = event.get("pid", 0)
        if not pid:
            return "·"
        proc = self.state.procs.get(pid)
        name = proc.name if proc is not None else event.get("name", "?")
        known = self._names.get(pid)
        if known is not None and known[0] is name:  # every event: make a name inert once
            return known[1]
        who = f"{safe(str(name), 24)}[{pid}]"
        self._names[pid] = (name, who)
        return who

    def step_text(self, step_id: str) -> str:
        step = self.steps.get(step_id)
        if step is None:
            return step_id
        text = step.get("ko") if self.lang == "ko" and step.get("ko") else step.get("en", "")
        tags = " ".join(step.get("teaches", []))
        return f"── {safe(text.strip(), None)}" + (f"  ({tags})" if tags else "")


def _first_reading(e: Event) -> str | None:
    """The first kernel reading of an object found at attach, worded as a reading."""
    kind, obj = e["kind"], safe(str(e.get("obj", "")), 80)
    if kind == "probe.pipe" and isinstance(e.get("nbytes"), int):
        held = f"holds {e['nbytes']} B" + (f": {bytefmt.quoted(payload(e))}" if e["nbytes"] else "")
    elif kind == "probe.sysv_mq" and isinstance(e.get("qnum"), int):
        held = f"holds {e['qnum']} message(s), {e.get('cbytes', 0)} B"
    elif kind == "probe.posix_mq" and isinstance(e.get("current_messages"), int):
        held = f"holds {e['current_messages']} message(s)"
    elif kind == "probe.sem" and isinstance(e.get("value"), int):
        held = f"has value {e['value']}"
    else:
        return None
    return f"kernel reading of {obj}: {held} (a probe, not traced operations)"


def _raw(e: Event) -> str:
    """An event no wording knows: its kind and fields, inert."""
    return safe(str(e["kind"]), 60) + _fields(e)


def _fields(e: Event) -> str:
    skip = {"t", "seq", "pid", "kind", "data"}
    parts = [safe(f"{k}={v}", 200) for k, v in e.items() if k not in skip]
    if "data" in e:
        parts.append(bytefmt.quoted(payload(e)))
    return (" " + " ".join(parts)) if parts else ""


def _declare(n: Narrator, e: Event) -> str:
    extra = {
        k: v
        for k, v in e.items()
        if k in ("capacity", "cells", "size", "value", "max_messages", "path")
    }
    desc = ", ".join(f"{k} {v}" for k, v in extra.items())
    if e.get("outside"):  # ipcviz attach: it was there already; its contents are the probes'
        return f"found {e['type']} {e['obj']} already there ({safe(e.get('kernel_name', ''))})"
    return f"creates {e['type']} {e['obj']} ({safe(e.get('kernel_name', ''))})" + (
        f": {desc}" if desc else ""
    )


def _exit(n: Narrator, e: Event) -> str:
    if "signal" in e:
        return f"killed by {e.get('signame', e['signal'])}"
    if e.get("code") is None:  # a forked child its parent reaped; this kernel kept no status
        return "exits (its parent reaped it; the status is lost)"
    return f"exits with code {e.get('code')}"


def _check(n: Narrator, e: Event) -> str:
    mark = "✓" if e["ok"] else "✗"
    detail = f": {safe(e['detail'])}" if e.get("detail") else ""
    return f"check {mark} {safe(e['description'])}{detail}"


def _end(n: Narrator, e: Event) -> str:
    reason = f" ({e['reason']})" if e.get("reason") else ""
    return f"result: {str(e.get('outcome')).upper()}{reason}, exit code {e.get('exit_code')}"


def _control(n: Narrator, e: Event) -> str:
    action = e.get("action")
    if action == "kill" and e.get("reason") == "deadlock":
        return f"ends the deadlock: kills {n.state.proc_name(e.get('target', 0))}"
    if action == "kill" and e.get("reason") == "holder.died":
        return f"ends the run: kills {n.state.proc_name(e.get('target', 0))} (stranded)"
    if action == "kill":
        return f"user kills {n.state.proc_name(e.get('target', 0))}"
    if action == "step_mode":
        how = "".join(f", {k} {safe(str(e[k]), 200)}" for k in ("seed", "schedule") if k in e)
        return f"step mode {'on' if e.get('on') else 'off'}{how}"
    if action == "present":
        return "presenter mode: the run pauses at every narration step"
    if action == "pace" and e.get("ok") is not False:
        ops = e.get("ops")
        if not isinstance(ops, (int, float)):
            return "pace off: operations at full speed"
        return f"pace: one operation at a time, at most {ops:g} per second"
    if action in ("continue", "step", "pace") and e.get("ok") is False:
        return f"{action} refused: {safe(str(e.get('reason', '')), 200)}"
    if action in ("freeze", "resume"):
        return {
            "freeze": "user freezes every process (SIGSTOP)",
            "resume": "user resumes every process (SIGCONT)",
        }[action]
    return f"user: {action}" + _fields({k: v for k, v in e.items() if k != "action"})


def _gate_step(n: Narrator, e: Event) -> str | None:
    if e.get("by") == "free":
        return None  # released because step mode went off: nothing was chosen
    on = f" on {e['obj']}" if e.get("obj") else ""
    return f"goes: {e.get('op')}{on} (step: {safe(str(e.get('by', '')), 40)})"


def _deadlock(n: Narrator, e: Event) -> str:
    from ipcviz.model.analysis.holders import stranded
    from ipcviz.model.analysis.waitfor import deadlock_text

    dead = stranded(n.state, e)
    if dead:  # the dead holder explains it: said once, by HOLDER DIED, not as a deadlock
        who = ", ".join(str(r.get("proc")) for r in e.get("stuck") or [])
        objs = ", ".join(dead)
        return safe(
            f"stranded: {who} asleep on {objs}, whose holder died (above): nobody can move",
            None,
        )
    why = "a cycle: nobody in it can move" if e.get("cycle") else "nobody can move"
    return f"DEADLOCK: {safe(deadlock_text(e), None)} — {why} (T34)"


def _resolved(n: Narrator, e: Event) -> str:
    """A run where a holder died strands processes rather than deadlocking them: said so."""
    if n.state.holders_died:
        return "nobody is stuck any more"
    return "the deadlock is broken"


def _sem_undo(n: Narrator, e: Event) -> str:
    k = e.get("n", 0)
    units = f"{abs(k)} unit{'s' if abs(k) != 1 else ''}"
    what = f"gives back its {units} of" if k > 0 else f"takes back the {units} it posted to"
    value = getattr(n.state.objects.get(e["obj"]), "value", "?")
    return f"as it dies, the kernel {what} {e['obj']} (SEM_UNDO): value now {value}"


def _holder_died(n: Narrator, e: Event) -> str:
    from ipcviz.model.analysis.holders import holder_text

    return f"HOLDER DIED: {safe(holder_text(e), None)} (T33)"


def _lost_update(n: Narrator, e: Event) -> str:
    from ipcviz.model.analysis.races import describe

    obj = n.state.objects.get(e.get("obj", ""))
    return "LOST UPDATE: " + safe(describe(e, getattr(obj, "cell_size", 8)), None)


def _drift(n: Narrator, e: Event) -> str:
    if e.get("resolved"):
        return f"drift resolved on {e['obj']}"
    return f"DRIFT on {e['obj']}: {e.get('field')} model={e.get('model')} kernel={e.get('kernel')}"


#: kind → wording: the engine's own kinds here, each mechanism's from its ``words.py``.
_FORMATS: dict[str, Callable[[Narrator, Event], str | None]] = {
    **registry.words(),
    "obj.declare": _declare,
    "obj.remove": lambda n, e: f"removes {e['obj']}",
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
        "| "
        + "\n| ".join(bytefmt.escape(line) for line in payload(e).rstrip(b"\n").split(b"\n"))
        + (
            f"\n(output cut after {e['cut']} bytes: the rest was not recorded)"
            if isinstance(e.get("cut"), int)
            else ""
        )
    ),
    "narrate": lambda n, e: n.step_text(e.get("step", "")),
    "report": lambda n, e: f"reports {e['key']} = {safe(repr(e.get('value')), 120)}",
    "control": _control,
    "check": _check,
    "session.end": _end,
    "error": lambda n, e: f"ERROR: {safe(e.get('message', ''), None)}",
    "tracer.stall": lambda n, e: f"tracer ring full: waited {e.get('count')} time(s)",
    "drift": _drift,
    "gate.wait": lambda n, e: None,  # shown by the TUI; "goes:" below says who moved
    "gate.step": _gate_step,
    "deadlock": _deadlock,
    "deadlock.resolved": _resolved,
    "deadlock.recover": lambda n, e: (
        f"posts {e['obj']} {e.get('n', 1)}x for dead {n.state.proc_name(e.get('victim', 0))}"
        " (the kernel does not release a semaphore when its holder dies, unless SEM_UNDO)"
    ),
    "sem.undo": _sem_undo,
    "holder.died": _holder_died,
    "race.lost_update": _lost_update,
    # ``ipcviz run -- PROG``: an object the program made and left (ipcviz never removes it)
    "program.leftover": lambda n, e: f"left behind: {safe(e.get('message', ''), 300)}",
}
