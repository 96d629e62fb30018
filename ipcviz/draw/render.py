"""Model → lines of styled segments, for the line-rendering widgets of the session screen.

Pure functions of a model object and a width: no Textual here, so they are cheap to test and
to benchmark. Every byte or string that came from a process or a trace goes through
``ipcviz.bytefmt`` before it becomes a ``Segment``; segments are never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from ipcviz import bytefmt
from ipcviz.draw import palette as P
from ipcviz.draw.marks import deadlock_text, gate_text
from ipcviz.i18n import N_, _
from ipcviz.mechanisms import registry
from ipcviz.model.state import Obj, Proc, State

Line = list[Segment]

#: One colour per process (by ``Proc.color``): bright, distinct, readable on black.
PALETTE: tuple[str, ...] = P.PROCESSES
UNKNOWN = P.FRAME
FG = Style(color=P.WHITE)
DIM = Style(color=P.SILVER)
BOLD = Style(color=P.WHITE, bold=True)
WARN = Style(color=P.BLACK, bgcolor=P.AMBER, bold=True)
BAD = Style(color=P.WHITE, bgcolor=P.DANGER, bold=True)
GOOD = Style(color=P.BLACK, bgcolor=P.GREEN, bold=True)
KERNEL = Style(color=P.SKY)
#: A kernel probe taken before the model's last change of the object: shown, but muted.
KERNEL_OLD = Style(color=P.OLD, italic=True)
EMPTY = Style(color=P.EMPTY)


def color_of(state: State, pid: int) -> str:
    p = state.procs.get(pid)
    return PALETTE[p.color % len(PALETTE)] if p is not None else UNKNOWN


@lru_cache(maxsize=512)
def cell_style(color: str, mark: bool = False, hot: bool = False) -> Style:
    """A byte/cell on its writer's colour; ``mark`` underlines (chunk boundaries, no colour
    needed), ``hot`` highlights a recent change."""
    if hot:
        return Style(color=color, bgcolor=P.BLACK, bold=True, reverse=True, underline=True)
    return Style(color=P.BLACK, bgcolor=color, underline=mark)


@lru_cache(maxsize=64)
def faint_style(color: str, mark: bool = False) -> Style:
    """A byte that may not be there any more (a FIFO's after its last close): its writer's
    colour on no background, dimmed, so it reads as a ghost of a ``cell_style`` byte."""
    return Style(color=color, dim=True, italic=True, underline=mark)


@lru_cache(maxsize=64)
def fg(color: str, bold: bool = False) -> Style:
    return Style(color=color, bold=bold)


def proc_label(state: State, pid: int) -> tuple[str, Style]:
    """A process as ``name[pid]`` in its colour (names are untrusted: made inert)."""
    return f"{bytefmt.safe_text(state.proc_name(pid), 24)}[{pid}]", fg(color_of(state, pid), True)


class Lines:
    """Builds wrapped lines of segments at a fixed width."""

    def __init__(self, width: int) -> None:
        self.width = max(20, width)
        self.lines: list[Line] = []
        self._cur: Line = []
        self._len = 0

    def add(self, text: str, style: Style = FG) -> None:
        """Append ``text`` (already inert) to the current line, cutting at the width."""
        room = self.width - self._len
        if not text:
            return
        if room <= 0:  # the line is full: its last cell says that something was cut
            self._mark_cut()
            return
        cut = cell_len(text)
        if cut > room:
            text = _cut(text, room - 1) + "…"
            cut = cell_len(text)
        self._cur.append(Segment(text, style))
        self._len += cut

    def _mark_cut(self) -> None:
        if not self._cur or self._cur[-1].text.endswith("…"):
            return
        seg = self._cur[-1]
        cells = cell_len(seg.text)
        kept = _cut(seg.text, cells - 1) + "…"
        self._cur[-1] = Segment(kept, seg.style)
        self._len += cell_len(kept) - cells

    def room(self) -> int:
        return self.width - self._len

    def newline(self) -> None:
        self.lines.append(self._cur)
        self._cur, self._len = [], 0

    def finish(self) -> list[Line]:
        if self._cur:
            self.newline()
        return self.lines


def _cut(text: str, cells: int) -> str:
    """The longest start of ``text`` that fits ``cells`` terminal cells (a wide character,
    e.g. Korean, takes two)."""
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > cells:
            break
        out.append(ch)
        used += w
    return "".join(out)


def pad(text: str, cells: int) -> str:
    """``text`` padded with spaces to ``cells`` terminal cells (never cut: a longer text
    is left as it is; ``Lines`` cuts at the width). ``str.ljust`` counts characters, and
    a Korean character takes two cells."""
    short = cells - cell_len(text)
    return text + " " * short if short > 0 else text


def title(out: Lines, obj: Obj) -> None:
    out.add(
        f" {bytefmt.safe_text(obj.type, 20)} ", Style(color=P.BLACK, bgcolor=P.WHITE, bold=True)
    )
    out.add(" " + bytefmt.safe_text(obj.name, 40), BOLD)
    if obj.kernel_name and obj.kernel_name != obj.name:  # (a program's pipe: named by it)
        out.add(f"  {bytefmt.safe_text(obj.kernel_name, 60)}", DIM)
    if obj.removed:
        out.add("  " + _("removed"), WARN)


def outside_note(out: Lines, obj: Obj, taken: int, unit: str) -> None:
    """An ``outside`` object (``ipcviz attach``): it was there before the trace, so what it
    held then is only the kernel's reading (the ``kernel …s ago`` line), never traced."""
    if not obj.outside:
        return
    if obj.info.get("outside") is True:  # declared so: found by ``ipcviz attach``
        out.add(" " + _("found at attach: earlier contents = kernel readings"), KERNEL_OLD)
        if taken:
            said = _("{n} {unit} taken came from before the attach or an unwatched process")
            out.add("; " + said.format(n=taken, unit=unit), DIM)
    else:  # a ``notice``: a process ipcviz does not watch uses it (its reason)
        out.add(
            " " + _("used by a process ipcviz does not watch: not all of it is traced"), KERNEL_OLD
        )
        if taken:
            said = _("{n} {unit} taken came from an unwatched process")
            out.add("; " + said.format(n=taken, unit=unit), DIM)
    out.newline()


def who(out: Lines, state: State, label: str, pids: Iterable[int]) -> None:
    pids = list(pids)
    out.add(label, DIM)
    if not pids:
        out.add("—", DIM)
    for i, pid in enumerate(pids):
        text, style = proc_label(state, pid)
        out.add((", " if i else "") + text, style)


def reading_age(k: dict[str, Any], now: int | None) -> str | None:
    """How old the kernel reading ``k`` is at ``now``, the moment the screen describes
    (``State.t``): "at this moment", "12ms ago", "2.8s ago", or "3ms later" for a reading
    stamped after that moment (stamps do not order the stream: an operation published after
    the reading may be stamped before it). None when either time is unknown. No threshold:
    only a reading of exactly this moment goes without an amount."""
    t = k.get("t")
    if now is None or type(t) is not int:
        return None
    ns = now - t
    if ns == 0:
        return _("at this moment")
    ms = round(abs(ns) / 1e6)
    if ms < 1:
        amount = _("<1ms")
    elif ms < 1000:
        amount = _("{ms}ms").format(ms=ms)
    else:
        amount = _("{age}s").format(age=f"{abs(ns) / 1e9:.1f}")
    if ns > 0:
        return _("{amount} ago").format(amount=amount)
    return _("{amount} later").format(amount=amount)


def kernel_label(obj: Obj, now: int | None = None) -> tuple[str, Style]:
    """`` kernel 12ms ago: `` (`` kernel at this moment: ``) or, when the probe predates the
    model's last change of the object, `` kernel (before the last change, 2.8s ago): ``.
    Every age is said, however young (``reading_age``); only an unknown one is left out."""
    when = reading_age(obj.kernel, now)
    if obj.kernel_is_stale():
        if when:
            return " " + _("kernel (before the last change, {when}):").format(when=when) + " ", (
                KERNEL_OLD
            )
        return " " + _("kernel (before the last change):") + " ", KERNEL_OLD
    if when:
        return " " + _("kernel {when}:").format(when=when) + " ", KERNEL
    return " " + _("kernel:") + " ", KERNEL


def kernel_seen(k: dict[str, Any], now: int | None) -> str:
    """``kernel 12ms ago``: what a process row adds to what a probe of it said."""
    when = reading_age(k, now)
    return _("kernel {when}").format(when=when) if when else _("kernel")


def kernel_fields(out: Lines, obj: Obj, skip: Iterable[str] = (), now: int | None = None) -> None:
    """The last kernel probe of the object, beside the model's view, with its age: the model
    may already be ahead of it, and then the line says so."""
    k = obj.kernel
    if not k:
        return
    label, style = kernel_label(obj, now)
    out.add(label, style)
    skipped = {"seq", "t", "data", "messages", "cells", *skip}
    for key, value in k.items():
        if key in skipped or isinstance(value, (dict, list)):
            continue
        out.add(f"{bytefmt.safe_text(str(key), 20)}={bytefmt.safe_text(str(value), 24)} ", style)
    out.newline()


def bar(out: Lines, used: int, total: int, label: str, after: int = 0) -> None:
    """``[████····] label``, the bar as wide as fits (8 to 40 cells) with ``after`` cells
    left on the line for what follows it (a count cut to "5 …" reads as another number)."""
    width = max(8, min(40, out.width - cell_len(label) - 5 - after))
    frac = 0.0 if total <= 0 else min(1.0, max(0.0, used / total))
    full = round(frac * width)
    if used > 0 and full == 0:
        full = 1
    style = BAD if frac >= 1.0 else fg(P.AQUA, True)
    out.add(" [", DIM)
    out.add("█" * full, style)
    out.add("·" * (width - full), EMPTY)
    out.add("] ", DIM)
    out.add(label, FG)


def byte_strip(
    out: Lines,
    state: State,
    chunks: Iterable[Sequence[Any]],
    rows: int,
    total: int,
    faint: int = 0,
) -> None:
    """Bytes as one cell each, on their writer's colour; each write underlined alternately.
    The first ``faint`` bytes may not be there any more: drawn faint (``faint_style``).
    A chunk is (pid, bytes) or (pid, bytes, known): past ``known``, bytes the trace did not
    record, drawn as ``bytefmt.UNRECORDED`` (never as a byte)."""
    budget = out.width * rows
    shown = 0
    for i, chunk in enumerate(chunks):
        pid, data = chunk[0], chunk[1]
        known = chunk[2] if len(chunk) > 2 else len(data)
        if shown >= budget:
            break
        color = color_of(state, pid)
        take = data[: budget - shown]
        ghost = min(len(take), faint - shown) if faint > shown else 0
        parts = ((0, ghost, faint_style(color, bool(i % 2))),) if ghost else ()
        for start, stop, style in (*parts, (ghost, len(take), cell_style(color, bool(i % 2)))):
            cells = "".join(bytefmt.byte_cells(take[start:stop], max(0, known - start)))
            while cells:
                room = out.room()
                if room <= 0:
                    out.newline()
                    room = out.room()
                out.add(cells[:room], style)
                cells = cells[room:]
        shown += len(take)
    if shown < total:
        rest = f"…+{total - shown} B"
        if out.room() < cell_len(rest):
            out.newline()
        out.add(rest, DIM)
    out.newline()


# -- objects: each family draws its own (ipcviz/mechanisms/<type>/view.py) -----------


def generic_lines(state: State, obj: Obj, width: int) -> list[Line]:
    out = Lines(width)
    title(out, obj)
    out.newline()
    for key, value in list(obj.info.items())[:6]:
        out.add(f" {bytefmt.safe_text(str(key), 20)}: {bytefmt.safe_text(str(value), 60)}", DIM)
        out.newline()
    kernel_fields(out, obj, now=state.t)
    return out.finish()


def object_lines(state: State, obj: Obj, width: int, rows: int = 3) -> list[Line]:
    """Drawn by the object's mechanism (its family's ``view``); an unknown type generically."""
    view = registry.view(obj.type)
    if view is not None and isinstance(obj, registry.state_of(obj.type)):
        return view.lines(state, obj, width, rows)
    return generic_lines(state, obj, width)


def signature(obj: Obj) -> tuple[Any, ...]:
    """Changes whenever what ``object_lines`` draws may change (cheap to compute)."""
    base = (obj.removed, obj.kernel.get("seq"), obj.kernel_is_stale())
    view = registry.view(obj.type)
    if view is not None and isinstance(obj, registry.state_of(obj.type)):
        return (*base, *view.signature(obj))
    return base


# -- processes ---------------------------------------------------------------------------


def fit(text: Text, cells: int) -> Text:
    """``text`` cut to ``cells`` terminal cells, ending in "…" when it was cut."""
    if cells <= 0 or text.cell_len <= cells:
        return text
    out = text[: len(_cut(text.plain, cells - 1))]
    out.append("…")
    return out


def clamp(lines: list[Text], width: int, height: int) -> list[Text]:
    """At most ``height`` wrapped lines; when some do not fit, the last one shown ends in
    "…" (cell widths: a wide character counts 2)."""
    if height <= 0 or len(lines) <= height:
        return lines
    kept = lines[:height]
    last = kept[-1].copy()
    last.rstrip()
    if last.cell_len + 1 > width:
        last = last[: len(_cut(last.plain, max(0, width - 1)))]
    last.append("…")
    kept[-1] = last
    return kept


def proc_state_text(state: State, p: Proc, room: int | None = None) -> Text:
    """running / waiting in OP on OBJ / blocked on OBJ (kernel 12ms ago) / frozen / exited.

    What a kernel probe of the process says is said with the probe's age; in ``room``
    cells the wait channel, then the operation, then the word "kernel" give way before the
    age does (``fit`` would cut the age first: it ends the line)."""
    if p.state == "exited":
        if p.exit_signal:
            return Text(
                _("killed by {signal}").format(signal=_signame(p.exit_signal)),
                style="bold #ff5f5f",
            )
        return Text(
            _("exited, code {code}").format(code=p.exit_code),
            style=P.SILVER if p.exit_code == 0 else "bold #ff5f5f",
        )
    if p.frozen:
        return Text(_("frozen (SIGSTOP)"), style="bold #000000 on #5fafff")
    marked = deadlock_text(state, p) or gate_text(p)  # step mode / deadlock (draw/marks.py)
    if marked is not None:
        return marked
    # Only a probe that still describes this moment (the model decides: State.proc_probe)
    probed = _probed_state(state, p, state.proc_probe(p))
    if probed is not None:
        forms, style = probed
        fits = [f for f in forms if room is None or cell_len(f) <= room]
        return Text(fits[0] if fits else forms[-1], style=style)
    if p.state == "waiting":
        said = _("waiting: {op} on {obj}{where}").format(
            op=bytefmt.safe_text(str(p.op), 20), obj=_on(p), where=""
        )
        if p.ons and room is not None and cell_len(said) > room:  # every one before the op
            said = _("waiting on {obj}").format(obj=_on(p))
        return Text(said, style="bold #ffaf00")
    if p.error:
        return Text(
            _("error: {what}").format(what=bytefmt.safe_text(str(p.error), 40)),
            style="bold #ff5f5f",
        )
    word = PROC_STATES.get(p.state)
    return Text(_(word) if word else bytefmt.safe_text(str(p.state), 20), style=P.LIME)


def _on(p: Proc) -> str:
    """The object of ``p``'s operation, or every one of them: ``fork2+fork3`` for a System
    V semop that takes from both (it waits for both, not only the first)."""
    return bytefmt.safe_text("+".join(p.ons) if p.ons else str(p.on), 40 if p.ons else 20)


def _probed_state(state: State, p: Proc, k: dict[str, Any]) -> tuple[list[str], str] | None:
    """What the probe ``k`` of ``p`` says, in forms from the fullest to the shortest, each
    with the reading's age ("(kernel 12ms ago, futex_do_wait)", then "(12ms ago)"), and
    their style; None when it says nothing of its own (the process runs)."""
    if not k:
        return None
    blocked = k.get("blocked_on")
    wchan = str(k.get("wchan") or "")
    wchan = bytefmt.safe_text(wchan, 24) if wchan not in ("", "0") else ""
    seen = kernel_seen(k, state.t)  # "kernel 12ms ago"
    age = reading_age(k, state.t) or seen  # "12ms ago"
    aged = [f" ({seen}, {wchan})"] if wchan else []
    aged += [f" ({seen})", f" ({age})"]
    if k.get("state") == "stopped":
        said = _("stopped (T, {seen})")
        return [said.format(seen=seen), said.format(seen=age)], "bold #000000 on #5fafff"
    asleep = sleep_call(k)
    if asleep is not None and not blocked:  # never shown as waiting on an IPC object
        if asleep.startswith("wait"):
            said = _("waiting for a child ({call}, {seen})")
        else:
            said = _("sleeping ({call}, {seen})")
        forms = [said.format(call=asleep, seen=seen), said.format(call=asleep, seen=age)]
        return [*forms, f"{asleep} ({age})"], P.GATE  # "nanosleep (12ms ago)": the call says it
    op = bytefmt.safe_text(str(p.op), 20)
    if p.state == "waiting" and not (blocked and blocked == p.on):
        if not wchan:  # the model's own wait: nothing of the reading's to say
            return None
        said = _("waiting: {op} on {obj}{where}")  # ... and the reading's wait channel
        obj = _on(p)
        wheres = (f" ({seen}, {wchan})", f" ({age}, {wchan})", "")
        forms = [said.format(op=op, obj=obj, where=w) for w in wheres]
        if p.ons:  # a semop on several: every one of them stays, the op's name goes
            forms.append(_("waiting on {obj}").format(obj=obj))
        return forms, "bold #ffaf00"
    if not blocked:
        return None
    forms: list[str] = []
    if p.state == "waiting":  # the kernel agrees: asleep in the model's operation
        said = _("blocked: {op} on {obj}{where}")
        obj = _on(p)
        forms = [said.format(op=op, obj=obj, where=w) for w in aged[:-1]]
    said = _("blocked on {obj}{where}")
    obj = bytefmt.safe_text(str(blocked), 30)
    return [*forms, *(said.format(obj=obj, where=w) for w in aged)], "bold #ffaf00"


#: A process's own states, as the table says them (a trace's unknown word: inert, as is).
PROC_STATES = {
    "running": N_("running"),
    "waiting": N_("waiting"),
    "blocked": N_("blocked"),
    "stopped": N_("stopped"),
    "exited": N_("exited"),
}


#: Syscalls (and, where the syscall table is unknown, wait points) of a process that sleeps
#: by itself or waits for any of several descriptors: not waiting on one IPC object.
_SLEEP_CALLS = {
    "nanosleep": "nanosleep",
    "clock_nanosleep": "nanosleep",
    "select": "select",
    "pselect6": "select",
    "poll": "poll",
    "ppoll": "poll",
    "epoll_wait": "epoll_wait",
    "epoll_pwait": "epoll_wait",
    "epoll_pwait2": "epoll_wait",
    "pause": "pause",
    "rt_sigsuspend": "pause",
    "wait4": "wait4",
    "waitid": "waitid",
}
_SLEEP_WCHANS = {
    "hrtimer_nanosleep": "nanosleep",
    "do_nanosleep": "nanosleep",
    "do_select": "select",
    "core_sys_select": "select",
    "do_sys_poll": "poll",
    "ep_poll": "epoll_wait",
    "do_wait": "wait4",
}


def sleep_call(k: dict[str, Any]) -> str | None:
    """``nanosleep``, ``select``... when a probe shows the process asleep in such a call."""
    call = k.get("syscall")
    if isinstance(call, str) and call:
        return _SLEEP_CALLS.get(call)
    return _SLEEP_WCHANS.get(str(k.get("wchan") or ""))


def _signame(sig: int) -> str:
    import signal

    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def cpu_text(p: Proc) -> tuple[Text, Text]:
    k = p.kernel
    cpu = k.get("cpu_percent", k.get("cpu"))
    num = k.get("cpu_num")
    if not p.alive:
        return Text("—", style=P.SHADOW), Text("—", style=P.SHADOW)
    return (
        Text(f"{cpu:.0f}%" if isinstance(cpu, (int, float)) else "·", style=P.WHITE),
        Text(str(num) if isinstance(num, int) else "·", style=P.WHITE),
    )


def cpu_age(state: State) -> str | None:
    """How old the process table's ``cpu`` and ``cpu#`` cells are at the moment shown
    (``State.t``): "cpu, cpu#: kernel 12ms ago", or, when the rows were read at moments
    worded apart, the newest and the oldest ("kernel 3ms later – 12ms ago": a reading
    stamped after the moment is never said current). One line for the table (its caption),
    not a column: at 80 columns the state's words need the width. None when no row shows
    a number (none read yet, or every process gone: "·" and "—" are no readings)."""
    stamps = [
        t
        for p in state.procs.values()
        if p.alive
        and type(t := p.kernel.get("t")) is int
        and (
            isinstance(p.kernel.get("cpu_percent", p.kernel.get("cpu")), (int, float))
            or isinstance(p.kernel.get("cpu_num"), int)
        )
    ]
    if not stamps:
        return None
    newest = reading_age({"t": max(stamps)}, state.t)
    oldest = reading_age({"t": min(stamps)}, state.t)
    if newest is None or oldest is None:
        return None
    if newest == oldest:
        return _("cpu, cpu#: kernel {when}").format(when=newest)
    return _("cpu, cpu#: kernel {newest} – {oldest}").format(newest=newest, oldest=oldest)
