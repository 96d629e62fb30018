"""The headless narrator: one plain-text line per event, a function of the events alone.

So a live run and its replay print the same log, line for line. Payload bytes go through
``bytefmt``: nothing a process wrote can act on the terminal.

Each event's words are a ``Lazy`` sentence (``ipcviz.i18n``): the values of the event's
moment, worded in the language of the moment it is shown, so ``l`` re-words a whole log
and a trace recorded in one language replays in the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ipcviz import bytefmt
from ipcviz.events import phrases
from ipcviz.events.codec import payload
from ipcviz.i18n import N_, Lazy, get_lang, lazy, lazy_n
from ipcviz.mechanisms import registry
from ipcviz.model.reducer import apply
from ipcviz.model.state import State
from ipcviz.narrate.said import Authored, Joined, Verbatim, known

Event = dict[str, Any]


def safe(text: str, limit: int | None = 200) -> str:
    """Untrusted text (tracebacks, titles, narration from a trace file) made inert."""
    return bytefmt.safe_text(text, limit)


@dataclass(slots=True)  # not frozen: a frozen init costs a setattr call per field, per event
class Entry:
    """One event as told, worded right after it was applied: the values in ``said`` are
    the ones of that moment, so a log kept of entries never shows a later state; the
    language is the one of the moment it is shown (``text``, ``lines``)."""

    t: int  # the moment it is told at: within its call, never before what came before
    pid: int
    obj: str | None
    kind: str
    who: str  # ``name[pid]`` (inert) or ``·``
    said: Lazy  # more than one line for tracebacks and multi-line output
    step: str | None = None  # ``narrate``: the step id

    @property
    def text(self) -> str:
        """The words in the language now chosen."""
        return self.said.render()

    def lines(self, lang: str | None = None) -> list[str]:
        """The headless log's lines: time, who, then the text (continuations indented).
        Made inert here, as the TUI does when it draws: a wording may carry trace fields
        (object names, drift values) as they are."""
        text = self.said.render(lang)
        if "\n" not in text:  # nearly every event: one line, one format, no list to build
            if not text.isprintable():  # (``safe`` leaves printable text as it is)
                text = safe(text, None)
            # (the f-string below in one %-format: a third of the cost, the same text)
            return ["%9.4fs  %-12s %s" % (self.t / 1e9, self.who, text)]  # noqa: UP031
        stamp = f"{self.t / 1e9:9.4f}s"
        return [
            f"{stamp if i == 0 else ' ' * len(stamp)}  {self.who:<12} {safe(line, None)}"
            for i, line in enumerate(text.split("\n"))
        ]


def _a_piece(e: Event) -> bool:
    """A piece of a write the engine split (``part``, or the last one: fewer bytes than
    asked): no call of its own, and its ``since`` may be only the earliest the write can
    have begun, so no duration is told for it."""
    n, size = e.get("n"), e.get("size")
    return bool(e.get("part")) or (type(n) is int and type(size) is int and n < size)


#: A call whose begin was folded into its end (``since``) and took at least this long is
#: told with its duration: a human notices a millisecond on screen, not a microsecond.
LONG_CALL_NS = 1_000_000


class Narrator:
    """Feed events in order; get back the lines to print.

    ``state`` is the model the events are applied to: its own by default, or one the caller
    owns (the TUI's session screen), so each event is worded from the state it produced.
    ``lang``: the language of the lines ``intro``/``feed``/``step_text`` return; None
    follows the one chosen (``ipcviz.i18n.get_lang``). Entries are worded when shown."""

    def __init__(
        self, header: dict[str, Any], lang: str | None = None, state: State | None = None
    ) -> None:
        self.lang = lang
        self.state = state if state is not None else State(header=header)
        #: the ``obj.declare`` being told names an object known already (``_declare``)
        self.redeclared = False
        sc = header.get("scenario", {})
        self.steps = {s["id"]: s for s in sc.get("steps", []) if isinstance(s, dict)}
        checks, checks_ko = sc.get("checks") or [], sc.get("checks_ko") or []
        #: check description (English, as the ``check`` event carries it) -> its Korean
        self.checks_ko: dict[str, str] = {
            en: ko
            for en, ko in zip(checks, checks_ko, strict=False)
            if isinstance(en, str) and isinstance(ko, str) and ko
        }
        self._names: dict[int, tuple[str, str]] = {}  # pid -> (name, inert "name[pid]")

    def intro(self) -> list[str]:
        lang = self.lang or get_lang()
        sc = self.state.header.get("scenario", {})
        teaches = " ".join(safe(str(t), 40) for t in sc.get("teaches", []))
        title = Authored(safe(str(sc.get("title", ""))), safe(str(sc.get("title_ko") or "")))
        lines = [f"ipcviz · {safe(str(sc.get('id', '?')), 80)} · {title.render(lang)}"]
        if teaches:
            lines.append(lazy("teaches: {tags}", tags=teaches).render(lang))
        return lines

    def feed(self, event: Event) -> list[str]:
        entry = self.entry(event)
        return [] if entry is None else entry.lines(self.lang)

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
            said = _first_reading(event)
            return None if said is None else Entry(event["t"], 0, event["obj"], kind, "·", said)
        who = self._who(event)
        if kind == "obj.declare":  # declared again (SEM_UNDO first seen): not a creation
            old = self.state.objects.get(event.get("obj", ""))
            self.redeclared = old is not None and not old.removed
        apply(self.state, event)
        fn = _FORMATS.get(kind)
        try:
            said = _raw(event) if fn is None else fn(self, event)
        except Exception:  # fields a hand-made trace left out: tell it raw, never crash
            said = _raw(event)
        if said is None:
            return None
        if type(said) is str:  # a wording that is no sentence of ours
            said = Verbatim(said)
        since = event.get("since")
        if (
            type(since) is int
            and event["t"] - since >= LONG_CALL_NS
            and kind != "narrate"
            and not _a_piece(event)
        ):
            # its begin was folded into it (no ``….begin`` told the wait): say how long
            # the call took, or a 22 ms sleep in sem_wait reads as an instant "took"
            ms = f"{(event['t'] - since) / 1e6:.1f}"
            said = lazy("{said}; the call took {ms} ms", said=said, ms=ms)
        obj = event.get("obj")
        t = event["t"]
        moment = self.state.moment
        return Entry(  # positional: this runs for every event of a flood
            # told at the moment the history has reached, within the call (``State.moment``)
            moment if moment < t else t,
            event.get("pid") or 0,
            obj if type(obj) is str else None,
            kind,
            who,
            said,
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

    def step_said(self, step_id: str) -> Lazy:
        """A narration step, in the language it is shown in (the author's two texts)."""
        step = self.steps.get(step_id)
        if step is None:
            return Verbatim(step_id)
        en, ko = step.get("en", ""), step.get("ko")
        text = Authored(
            safe(str(en).strip(), None), safe(ko.strip(), None) if isinstance(ko, str) else None
        )
        tags = " ".join(str(t) for t in step.get("teaches", []))
        return Joined("", ["── ", text, f"  ({tags})" if tags else ""])

    def step_text(self, step_id: str, lang: str | None = None) -> str:
        return self.step_said(step_id).render(lang or self.lang)

    def check_said(self, description: str) -> Lazy:
        """A check's description in the language shown (the author's Korean, from the
        header, when there is one)."""
        ko = self.checks_ko.get(description)
        return Authored(safe(description), safe(ko) if ko else None)


def _first_reading(e: Event) -> Lazy | None:
    """The first kernel reading of an object found at attach, worded as a reading."""
    kind, obj = e["kind"], safe(str(e.get("obj", "")), 80)
    if kind == "probe.pipe" and isinstance(e.get("nbytes"), int):
        if e["nbytes"]:
            data = bytefmt.quoted(payload(e), whole=e["nbytes"])  # the copy is capped
            held = lazy("holds {n} B: {data}", n=e["nbytes"], data=data)
        else:
            held = lazy("holds {n} B", n=e["nbytes"])
    elif kind == "probe.sysv_mq" and isinstance(e.get("qnum"), int):
        held = lazy("holds {n} message(s), {bytes} B", n=e["qnum"], bytes=e.get("cbytes", 0))
    elif kind == "probe.posix_mq" and isinstance(e.get("current_messages"), int):
        held = lazy("holds {n} message(s)", n=e["current_messages"])
    elif kind == "probe.sem" and isinstance(e.get("value"), int):
        held = lazy("has value {value}", value=e["value"])
    else:
        return None
    return lazy(
        "kernel reading of {obj}: {held} (a probe, not traced operations)", obj=obj, held=held
    )


def _raw(e: Event) -> Lazy:
    """An event no wording knows: its kind and fields, inert."""
    return Verbatim(safe(str(e["kind"]), 60) + _fields(e))


def _fields(e: Event) -> str:
    skip = {"t", "seq", "pid", "kind", "data"}
    parts = [safe(f"{k}={v}", 200) for k, v in e.items() if k not in skip]
    if "data" in e:
        parts.append(bytefmt.quoted(payload(e)))
    return (" " + " ".join(parts)) if parts else ""


#: ``obj.declare``'s sizes, each worded with its value
_DECLARED = {
    "capacity": N_("capacity {value}"),
    "cells": N_("cells {value}"),
    "size": N_("size {value}"),
    "value": N_("value {value}"),
    "max_messages": N_("max_messages {value}"),
    "path": N_("path {value}"),
}


def _declare(n: Narrator, e: Event) -> Lazy:
    # (a program's object is named by its kernel name: ``pipe:[8136532]``, a FIFO's path)
    extra = [
        Lazy(_DECLARED[k], value=v)
        for k, v in e.items()
        if k in _DECLARED and not (k == "path" and v == e["obj"])
    ]
    kernel = safe(e.get("kernel_name", ""))
    if kernel == e["obj"] and not e.get("outside") and not n.redeclared:
        if extra:
            return lazy(
                "creates {type} {obj}: {sizes}",
                type=e["type"],
                obj=e["obj"],
                sizes=Joined(", ", extra),
            )
        return lazy("creates {type} {obj}", type=e["type"], obj=e["obj"])
    if e.get("outside"):  # ipcviz attach: it was there already; its contents are the probes'
        return lazy(
            "found {type} {obj} already there ({kernel})",
            type=e["type"],
            obj=e["obj"],
            kernel=kernel,
        )
    made = n.state.objects.get(e["obj"])
    if getattr(made, "maybe_filled", False) and not n.redeclared:
        # O_CREAT alone where /dev/mqueue is not mounted (``QueueObj.maybe_filled``): made
        # by this call, or there before the run with messages: not "creates", not empty
        if extra:
            return lazy(
                "opens {type} {obj} ({kernel}) with O_CREAT alone: made now ({sizes}), or "
                "there before the run with messages of its own (/dev/mqueue is not mounted "
                "to tell)",
                type=e["type"],
                obj=e["obj"],
                kernel=kernel,
                sizes=Joined(", ", extra),
            )
        return lazy(
            "opens {type} {obj} ({kernel}) with O_CREAT alone: made now, or there before the "
            "run with messages of its own (/dev/mqueue is not mounted to tell)",
            type=e["type"],
            obj=e["obj"],
            kernel=kernel,
        )
    if n.redeclared:  # the program's own object, known already: nothing was created
        if e.get("undo"):
            return lazy(
                "uses {obj} with SEM_UNDO from now on (value {value}): the kernel undoes "
                "each process's changes at its exit",
                obj=e["obj"],
                value=e.get("value", 0),
            )
        return lazy(
            "{type} {obj} is seen again ({kernel})", type=e["type"], obj=e["obj"], kernel=kernel
        )
    if extra:
        return lazy(
            "creates {type} {obj} ({kernel}): {sizes}",
            type=e["type"],
            obj=e["obj"],
            kernel=kernel,
            sizes=Joined(", ", extra),
        )
    return lazy("creates {type} {obj} ({kernel})", type=e["type"], obj=e["obj"], kernel=kernel)


def _exit(n: Narrator, e: Event) -> Lazy:
    if "signal" in e:
        return lazy("killed by {signal}", signal=e.get("signame", e["signal"]))
    if e.get("code") is None:  # a forked child its parent reaped; this kernel kept no status
        return lazy("exits (its parent reaped it; the status is lost)")
    return lazy("exits with code {code}", code=e.get("code"))


def _value(e: Event) -> Authored:
    """A reported value as a person reads it (yes/no, ``a, b``, ``key: value``), in the
    language shown; Python's print (``True``, ``['b1']``, ``{'count': 3}``) was shown."""
    value = e.get("value")
    return Authored(bytefmt.readable(value, "en", 120), bytefmt.readable(value, "ko", 120))


def _check(n: Narrator, e: Event) -> Lazy:
    # ?: the run could not decide (a worker was killed): no ✗ for a correct program
    mark = "✓" if e["ok"] else ("?" if e.get("undecided") else "✗")
    description = n.check_said(str(e["description"]))
    if e.get("detail"):
        ko = e.get("detail_ko")
        return lazy(
            "check {mark} {description}: {detail}",
            mark=mark,
            description=description,
            detail=Authored(safe(str(e["detail"])), safe(ko) if isinstance(ko, str) else None),
        )
    return lazy("check {mark} {description}", mark=mark, description=description)


_OUTCOMES = {
    "passed": N_("PASSED"),
    "failed": N_("FAILED"),
    "undecided": N_("UNDECIDED"),
    "error": N_("ERROR"),
    "stopped": N_("STOPPED"),
    "timeout": N_("TIMEOUT"),
}


def _end(n: Narrator, e: Event) -> Lazy:
    outcome = str(e.get("outcome"))
    worded = Lazy(_OUTCOMES[outcome]) if outcome in _OUTCOMES else outcome.upper()
    if e.get("reason"):
        return lazy(
            "result: {outcome} ({reason}), exit code {code}",
            outcome=worded,
            reason=known(safe(str(e["reason"]))),
            code=e.get("exit_code"),
        )
    return lazy("result: {outcome}, exit code {code}", outcome=worded, code=e.get("exit_code"))


def _control(n: Narrator, e: Event) -> Lazy:
    action = e.get("action")
    target = n.state.proc_name(e.get("target", 0))
    if action == "kill" and e.get("reason") == "deadlock":
        return lazy("ends the deadlock: kills {proc}", proc=target)
    if action == "kill" and e.get("reason") == "holder.died":
        return lazy("ends the run: kills {proc} (stranded)", proc=target)
    if action == "kill":
        return lazy("user kills {proc}", proc=target)
    if action == "step_mode":
        how = Joined(
            "",
            [Lazy(_STEPPED_BY[k], value=safe(str(e[k]), 200)) for k in _STEPPED_BY if k in e],
        )
        if e.get("on"):
            return lazy("step mode on{how}", how=how)
        return lazy("step mode off{how}", how=how)
    if action == "present":
        return lazy("presenter mode: the run pauses at every narration step")
    if action == "pace" and e.get("ok") is not False:
        ops = e.get("ops")
        if not isinstance(ops, (int, float)):
            return lazy("pace off: operations at full speed")
        rate = format(ops, "g")
        return lazy("pace: one operation at a time, at most {ops} per second", ops=rate)
    if action in ("continue", "step", "pace") and e.get("ok") is False:
        reason = known(safe(str(e.get("reason", "")), 200))
        return {
            "continue": lazy("continue refused: {reason}", reason=reason),
            "step": lazy("step refused: {reason}", reason=reason),
            "pace": lazy("pace refused: {reason}", reason=reason),
        }[action]
    if action == "freeze":
        return lazy("user freezes every process (SIGSTOP)")
    if action == "resume":
        return lazy("user resumes every process (SIGCONT)")
    return lazy(
        "user: {action}{fields}",
        action=action,
        fields=_fields({k: v for k, v in e.items() if k != "action"}),
    )


#: how step mode chooses, as ``control step_mode`` says it
_STEPPED_BY = {"seed": N_(", seed {value}"), "schedule": N_(", schedule {value}")}
#: who let a process go at its gate (``gate.step``'s ``by``), worded when shown
_RELEASED_BY = (
    N_("schedule"),
    N_("user"),
    N_("random"),
    N_("presenter"),
    N_("pace"),
    N_("explore"),
)


def _gate_step(n: Narrator, e: Event) -> Lazy | None:
    if e.get("by") == "free":
        return None  # released because step mode went off: nothing was chosen
    said = safe(str(e.get("by", "")), 40)
    seed = said.removeprefix("seed ")
    by = lazy("seed {n}", n=seed) if seed != said else known(said)
    if e.get("obj"):
        return lazy("goes: {op} on {obj} (step: {by})", op=e.get("op"), obj=e["obj"], by=by)
    return lazy("goes: {op} (step: {by})", op=e.get("op"), by=by)


def _deadlock(n: Narrator, e: Event) -> Lazy:
    from ipcviz.model.analysis.holders import stranded
    from ipcviz.model.analysis.waitfor import deadlock_said

    dead = stranded(n.state, e)
    if dead:  # the dead holder explains it: said once, by HOLDER DIED, not as a deadlock
        who = ", ".join(safe(str(r.get("proc")), 40) for r in e.get("stuck") or [])
        objs = safe(", ".join(dead), None)
        return lazy(
            "stranded: {who} asleep on {objs}, whose holder died (above): nobody can move",
            who=who,
            objs=objs,
        )
    if e.get("cycle"):
        return lazy("DEADLOCK: {why} — a cycle: nobody in it can move (T34)", why=deadlock_said(e))
    return lazy("DEADLOCK: {why} — nobody can move (T34)", why=deadlock_said(e))


def _resolved(n: Narrator, e: Event) -> Lazy:
    """A run where a holder died strands processes rather than deadlocking them: said so."""
    if n.state.holders_died:
        return lazy("nobody is stuck any more")
    return lazy("the deadlock is broken")


def _sem_undo(n: Narrator, e: Event) -> Lazy:
    k = e.get("n", 0)
    obj = n.state.objects.get(e["obj"])
    value = getattr(obj, "value", "?")
    units = lazy_n("{n} unit", "{n} units", abs(k))
    if obj is not None and obj.outside:  # its value is the kernel's to say, not the model's
        if k > 0:
            return lazy(
                "as it dies, the kernel gives back its {units} of {obj} (SEM_UNDO); its "
                "value: the kernel's readings only",
                units=units,
                obj=e["obj"],
            )
        return lazy(
            "as it dies, the kernel takes back the {units} it posted to {obj} (SEM_UNDO); "
            "its value: the kernel's readings only",
            units=units,
            obj=e["obj"],
        )
    if k > 0:
        return lazy(
            "as it dies, the kernel gives back its {units} of {obj} (SEM_UNDO): value now {value}",
            units=units,
            obj=e["obj"],
            value=value,
        )
    return lazy(
        "as it dies, the kernel takes back the {units} it posted to {obj} (SEM_UNDO): "
        "value now {value}",
        units=units,
        obj=e["obj"],
        value=value,
    )


def _recording_stopped(e: Event) -> Lazy:
    """The engine's sentence already says "recording stopped": shown once, not twice."""
    said = known(safe(e.get("message", "")))
    if said.message == phrases.RECORDING_STOPPED:
        return said
    return lazy("recording stopped: {why}", why=said)


def error_said(e: Event) -> Lazy:
    """An ``error`` event's sentence: worded from its data when it carries them (a holder
    that died: ``holder``), else its English ``message`` as a known phrase."""
    holder = e.get("holder")
    if isinstance(holder, dict):
        from ipcviz.model.analysis.holders import holder_said

        return holder_said(holder)
    return known(safe(e.get("message", ""), None))


def _holder_died(n: Narrator, e: Event) -> Lazy:
    from ipcviz.model.analysis.holders import holder_said

    return lazy("HOLDER DIED: {what} (T33)", what=holder_said(e))


def leftover_what(e: Event) -> Lazy:
    """A ``program.leftover``'s sentence in the viewer's language, from the event's
    ``reason`` and values; a trace without them (older) as its English ``message``."""
    said = phrases.LEFTOVERS.get(str(e.get("reason", "")))
    if said is None:
        return known(safe(e.get("message", ""), 300))
    kind = str(e.get("what", ""))
    word = phrases.LEFTOVER_KINDS.get(kind)
    return lazy(
        said,
        kind=Lazy(word) if word else Verbatim(safe(kind, 40)),
        name=Verbatim(safe(str(e.get("name", "")), 200)),
        hint=Verbatim(safe(str(e.get("hint", "")), 300)),
    )


def leftover_said(e: Event) -> Lazy:
    """The log's line: ``left behind: …`` (``cleaned up: …``)."""
    what = leftover_what(e)
    if e.get("removed") is True:
        return lazy("cleaned up: {what}", what=what)
    return lazy("left behind: {what}", what=what)


def _notice(n: Any, e: dict[str, Any]) -> Lazy:
    """A known reason in the viewer's language; any other as the engine wrote it."""
    said = phrases.NOTICES.get(str(e.get("reason", "")))
    if said is not None:
        name = safe(str(e.get("name", e.get("obj", ""))), 40)
        signal = safe(str(e.get("signal", "")), 20)
        return lazy(said, pid=e.get("pid", 0), name=Verbatim(name), signal=Verbatim(signal))
    return lazy("note: {what}", what=known(safe(e.get("message", ""), 300)))


def _conflict(n: Narrator, e: Event) -> Lazy:
    """The engine found no legal place for an operation: said as ipcviz's fault, never the
    program's (the kernel did something; ipcviz could not show it in an order it could
    have had), with the engine's reason in the language shown where the catalog has it."""
    message = safe(str(e.get("message", "")), 300)
    found = phrases.match(message)
    if found is not None and found.message == phrases.CONFLICT:
        why: Lazy = lazy(phrases.CONFLICT, reason=known(str(found.params["reason"])))
    else:
        why = known(message)
    obj = e.get("obj")
    if isinstance(obj, str):
        return lazy(
            "ORDER CONFLICT on {obj}: {why}. This is a fault of ipcviz (its ordering, or a "
            "record it lost), not of the program: from here on, {obj} may be shown in a "
            "state the kernel never had",
            obj=safe(obj, 80),
            why=why,
        )
    return lazy(
        "ORDER CONFLICT: {why}. This is a fault of ipcviz (its ordering, or a record it "
        "lost), not of the program",
        why=why,
    )


def _lost_update(n: Narrator, e: Event) -> Lazy:
    from ipcviz.model.analysis.races import describe_said

    obj = n.state.objects.get(e.get("obj", ""))
    return lazy("LOST UPDATE: {what}", what=describe_said(e, getattr(obj, "cell_size", 8)))


def _drift(n: Narrator, e: Event) -> Lazy:
    if e.get("resolved"):
        return lazy("drift resolved on {obj}", obj=e["obj"])
    return lazy(
        "DRIFT on {obj}: {field} model={model} kernel={kernel}",
        obj=e["obj"],
        field=e.get("field"),
        model=e.get("model"),
        kernel=e.get("kernel"),
    )


def _start(n: Narrator, e: Event) -> Lazy:
    if e.get("command"):
        return lazy("starts: {command}", command=safe(bytefmt.shell_words(e["command"])))
    return lazy("starts")


def _ran(n: Narrator, e: Event) -> Lazy:
    command = e.get("command") or [e.get("name", "")]
    return lazy("now runs: {command}", command=safe(bytefmt.shell_words(command)))


def _error(n: Narrator, e: Event) -> Lazy:
    lines = "\n".join(safe(line, None) for line in e.get("text", "").rstrip().splitlines())
    return lazy("raised an exception:\n{traceback}", traceback=Verbatim(lines))


def _output(n: Narrator, e: Event) -> Lazy:
    text = "| " + "\n| ".join(
        bytefmt.escape(line) for line in payload(e).rstrip(b"\n").split(b"\n")
    )
    if isinstance(e.get("cut"), int):
        return lazy(
            "{output}\n(output cut after {n} bytes: the rest was not recorded)",
            output=Verbatim(text),
            n=e["cut"],
        )
    return Verbatim(text)


#: kind → wording: the engine's own kinds here, each mechanism's from its ``words.py``.
_FORMATS: dict[str, Callable[[Narrator, Event], Lazy | str | None]] = {
    **registry.words(),
    "obj.declare": _declare,
    "obj.remove": lambda n, e: lazy("removes {obj}", obj=e["obj"]),
    "proc.start": _start,
    "proc.exit": _exit,
    "proc.exec": _ran,
    "recording.stopped": lambda n, e: _recording_stopped(e),
    "proc.error": _error,
    "proc.output": _output,
    "narrate": lambda n, e: n.step_said(e.get("step", "")),
    "report": lambda n, e: lazy(
        "reports {key} = {value}", key=safe(str(e["key"])), value=_value(e)
    ),
    "control": _control,
    "check": _check,
    "session.end": _end,
    "error": lambda n, e: lazy("ERROR: {error}", error=error_said(e)),
    "tracer.stall": lambda n, e: lazy(
        "tracer ring full: waited {count} time(s)", count=e.get("count")
    ),
    "drift": _drift,
    "order.conflict": _conflict,
    "gate.wait": lambda n, e: None,  # shown by the TUI; "goes:" below says who moved
    "gate.step": _gate_step,
    "deadlock": _deadlock,
    "deadlock.resolved": _resolved,
    "deadlock.recover": lambda n, e: lazy(
        "posts {obj} {n}x for dead {proc} (the kernel does not release a semaphore when its "
        "holder dies, unless SEM_UNDO)",
        obj=e["obj"],
        n=e.get("n", 1),
        proc=n.state.proc_name(e.get("victim", 0)),
    ),
    "sem.undo": _sem_undo,
    "holder.died": _holder_died,
    "race.lost_update": _lost_update,
    # ``ipcviz run -- PROG``: an object the program made and left (named; removed only
    # when ipcviz ended the program, which never got to remove it: ``removed``)
    "program.leftover": lambda n, e: leftover_said(e),
    # how the run is seen: a scenario's commands by the probes alone (strace missing)
    "notice": _notice,
}
