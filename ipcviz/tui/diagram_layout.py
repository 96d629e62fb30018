"""The diagram view's layout: the lecture figure, from the model, as lines of segments.

One band per kernel object: the object's box in the middle, its state drawn inside by its
mechanism (``registry.diagram(type)``: a tube of bytes, a row of messages, a grid of
cells, tokens and sleepers); on its left the processes that put things in (write, send,
post), on its right those that only take (read, receive, wait), each joined to the box by
an edge labelled with what it did. The newest operation's edge is lit (reversed, in the
process's colour), the few before it bold: the lighting follows the events
(``State.uses``), never a clock, so live, replay and tests agree.

No Textual: ``diagram_lines(state, width, height)`` is a pure function of the model, tried
in less and less roomy forms until it fits the height (80×24 compact, 200×60 roomy).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from rich.segment import Segment
from rich.style import Style

from ipcviz import bytefmt
from ipcviz.mechanisms import registry
from ipcviz.model.state import Obj, Proc, State
from ipcviz.tui import diagram_kit as k
from ipcviz.tui import render as r

Line = k.Line
VERBS = registry.verbs()
PUTS = registry.puts()
#: Most interior rows an object gets, however much room there is.
MAX_ROWS = 8
DIM_EDGE = Style(color="#6c6c6c")


@dataclass(frozen=True)
class Mode:
    """How roomy a drawing is (``MODES``: the first that fits the height wins)."""

    boxes: bool  # processes as 3-row boxes (else one row each)
    roomy: bool  # objects get the rows their state wants (else their least)
    gap: bool  # a blank row between bands
    legend: bool  # a first row naming every process and what it is doing


MODES = (
    Mode(boxes=True, roomy=True, gap=True, legend=True),
    Mode(boxes=True, roomy=False, gap=True, legend=True),
    Mode(boxes=False, roomy=True, gap=True, legend=True),
    Mode(boxes=False, roomy=True, gap=False, legend=True),
    Mode(boxes=False, roomy=False, gap=False, legend=True),
    Mode(boxes=False, roomy=False, gap=False, legend=False),
)


def diagram_lines(state: State, width: int, height: int) -> list[Line]:
    """The diagram at ``width`` × at most ``height`` rows."""
    width = max(20, width)
    if not state.objects:
        return [k.text_line(width, " no kernel objects yet", k.LABEL)]
    g = _geometry(state, width)
    for mode in MODES:  # measured, not drawn: a frame draws once
        if _height(state, g, mode) <= height:
            return _draw(state, g, width, mode)
    lines = _draw(state, g, width, MODES[-1])
    # Still too tall: the first bands, then how many were left out.
    bands = lines[: max(0, height - 1)]
    left = sum(1 for _ in state.objects) - _bands_in(bands)
    bands.append(k.text_line(width, f" … {max(1, left)} more object(s): a taller window", k.LABEL))
    return bands


def _bands_in(lines: list[Line]) -> int:
    return sum(1 for line in lines if line and line[0].text.startswith(("╭", "┏")))


# -- one drawing --------------------------------------------------------------------------


#: The widest an object's box gets: wider, a short state floats in empty space; the rest
#: of a wide screen goes to the margins, so the figure stays together in the middle.
MAX_OBJW = 110


@dataclass
class _Geometry:
    procw: int
    edgew: int
    objw: int
    margin: int = 0


def _geometry(state: State, width: int) -> _Geometry:
    names = [len(bytefmt.safe_text(p.name, 16)) for p in state.procs.values()] or [6]
    procw = max(11, min(20, max(names) + 4, width // 6))  # room for "zz read" under it
    labels = [len("/".join(v)) for uses in state.uses.values() for v in uses.values()] or [5]
    edgew = max(10, min(max(labels) + 4, 16, width // 8))  # "zz write" fits
    objw = width - 2 * (procw + edgew)
    if objw < 28:  # narrow: the edges say only their first verb
        edgew = min(10, edgew)
        objw = width - 2 * (procw + edgew)
    margin = 0
    if objw > MAX_OBJW:
        margin = (objw - MAX_OBJW) // 2
        objw = width - 2 * (procw + edgew + margin)
    return _Geometry(procw, edgew, max(12, objw), margin)


def _draw(state: State, g: _Geometry, width: int, mode: Mode) -> list[Line]:
    out: list[Line] = []
    if mode.legend:
        out.append(_legend(state, width))
    for obj in state.objects.values():
        if mode.gap and out:
            out.append(k.blank(width))
        out += _band(state, obj, g, mode)
    return out


def _height(state: State, g: _Geometry, mode: Mode) -> int:
    """Rows ``_draw`` takes in ``mode``, without drawing."""
    per = 3 if mode.boxes else 1
    total = 1 if mode.legend else 0
    for i, obj in enumerate(state.objects.values()):
        left, right, _ = _sides(state, obj)
        view = _view(obj)
        rows = _rows(state, obj, view, g.objw - 2, mode)
        gap = 1 if mode.gap and (i or mode.legend) else 0
        total += max(rows + 2, per * len(left), per * len(right)) + gap
    return total


def _view(obj: Obj) -> ModuleType | None:
    view = registry.diagram(obj.type)
    if view is not None and not isinstance(obj, registry.state_of(obj.type)):
        return None
    return view


def _legend(state: State, width: int) -> Line:
    """Every process once: its name on its colour, and whether it sleeps in the kernel."""
    row = k.Row(width)
    for p in state.procs.values():
        text, style = k.chip(state, p.pid, 14)
        word, wstyle = _proc_word(p)
        need = len(text) + len(word) + 2
        if row.room() < need:
            row.add("…", k.LABEL)
            break
        row.add(text, style)
        row.add(f"{word}  ", wstyle)
    return row.done()


def _proc_word(p: Proc) -> tuple[str, Style]:
    if not p.alive:
        return " exited", k.HOLE
    if p.state == "waiting" and p.op:
        verb = VERBS.get(p.op) or bytefmt.safe_text(str(p.op), 16)  # a trace's: untrusted
        return f" asleep in {verb}", k.WAITING
    if p.gated_op:
        return " at the gate", Style(color="#87afff")
    return "", k.LABEL


def _sides(state: State, obj: Obj) -> tuple[list[int], list[int], dict[int, dict[str, int]]]:
    """Processes that put things in (left) and those that only take (right), in the
    order they started; a process asleep on the object counts even before its first use."""
    uses = {pid: dict(v) for pid, v in state.uses.get(obj.name, {}).items()}
    view = registry.diagram(obj.type)
    if (
        view is not None
        and hasattr(view, "holders")
        and isinstance(obj, registry.state_of(obj.type))
    ):
        for pid, verb in view.holders(state, obj).items():
            if pid not in uses and pid in state.procs:
                uses[pid] = {verb: 0}  # holds it, has not used it yet: a quiet edge
    for p in state.procs.values():
        if p.on == obj.name and p.op and p.state == "waiting" and p.op in VERBS:
            uses.setdefault(p.pid, {}).setdefault(VERBS[p.op], 0)
    order = {pid: i for i, pid in enumerate(state.procs)}
    pids = sorted(uses, key=lambda pid: order.get(pid, len(order) + pid))
    left = [pid for pid in pids if PUTS & uses[pid].keys()]
    right = [pid for pid in pids if not PUTS & uses[pid].keys()]
    return left, right, uses


def _band(state: State, obj: Obj, g: _Geometry, mode: Mode) -> list[Line]:
    left, right, uses = _sides(state, obj)
    view = _view(obj)
    inner = g.objw - 2
    rows = _rows(state, obj, view, inner, mode)
    lit = any(n == state.ops for v in uses.values() for n in v.values()) and state.ops > 0
    body = _object_box(state, obj, view, g.objw, rows, lit)
    per = 3 if mode.boxes else 1
    height = max(len(body), per * len(left), per * len(right))
    lines = [k.Row(0).segments for _ in range(height)]
    for y in range(height):
        segs: Line = k.blank(g.margin) if g.margin else []
        segs += _side_cell(state, obj, left, uses, g, mode, y, put_side=True)
        segs += body[y] if y < len(body) else k.blank(g.objw)
        segs += _side_cell(state, obj, right, uses, g, mode, y, put_side=False)
        if g.margin:
            segs += k.blank(g.margin)
        lines[y] = segs
    return lines


def _rows(state: State, obj: Obj, view: ModuleType | None, inner: int, mode: Mode) -> int:
    if view is None:
        return 1
    if not mode.roomy:
        return max(1, view.rows_least(state, obj, inner))
    return max(1, min(view.rows_wanted(state, obj, inner), MAX_ROWS))


def _object_box(
    state: State, obj: Obj, view: ModuleType | None, width: int, rows: int, lit: bool
) -> list[Line]:
    """The object's box: name, type and a caption on the top edge, its state inside."""
    inner = width - 2
    frame = k.LIT_FRAME if lit else k.FRAME
    top = k.Row(width - 1)
    top.add("╭─", frame)
    top.add(f" {bytefmt.safe_text(obj.name, 24)} ", k.NAME)
    top.add(f"{bytefmt.safe_text(obj.type, 16)} ", k.LABEL)
    if view is not None:
        top.add(f"─ {view.caption(state, obj)} ", r.FG)
    if obj.removed:
        top.add(" removed ", r.WARN)
    top.add("─" * top.room(), frame)
    top.segments.append(Segment("╮", frame))
    if view is not None:
        body = view.draw(state, obj, inner, rows, lit)
    else:
        body = [k.text_line(inner, f" {len(obj.info)} fields (no drawing for this type)", k.LABEL)]
    out = [top.done()]
    body = body[: max(rows, 1)]
    body += [k.blank(inner) for _ in range(max(rows, 1) - len(body))]  # as tall as measured
    for line in body:
        out.append([Segment("│", frame), *line, Segment("│", frame)])
    out.append([Segment("╰" + "─" * inner + "╯", frame)])
    return out


# -- the processes on each side and their edges --------------------------------------------


def _side_cell(
    state: State,
    obj: Obj,
    pids: list[int],
    uses: dict[int, dict[str, int]],
    g: _Geometry,
    mode: Mode,
    y: int,
    put_side: bool,
) -> Line:
    """Row ``y`` of one side: a process box (or row) and, on its middle row, its edge."""
    per = 3 if mode.boxes else 1
    i, dy = divmod(y, per)
    if i >= len(pids):
        return k.blank(g.procw + g.edgew)
    pid = pids[i]
    box = _proc_row(state, obj, pid, g.procw, mode, dy)
    edge = _edge(state, obj, pid, uses.get(pid, {}), g.edgew, put_side) if dy == per // 2 else None
    if edge is None:
        edge = k.blank(g.edgew)
    return [*box, *edge] if put_side else [*edge, *box]


def _proc_row(state: State, obj: Obj, pid: int, width: int, mode: Mode, dy: int) -> Line:
    """A process's box (or one row); under its name what it is doing, where it matters:
    asleep in a call on *this* object, held at the step gate, exited."""
    p = state.procs.get(pid)
    name, style = k.proc_name(state, pid, width - 4)
    color = Style(color=r.color_of(state, pid))
    if not mode.boxes:
        text, chip_style = k.chip(state, pid, width - 2)
        return k.Row(width).add(text, chip_style).done()
    inner = width - 2
    if dy == 0:
        return [Segment("┌" + "─" * inner + "┐", color)]
    if dy == 1:
        return [Segment("│", color), *k.Row(inner).add(name, style).done(), Segment("│", color)]
    word, wstyle = _proc_word(p) if p is not None else ("", k.LABEL)
    if p is not None and p.state == "waiting" and p.on != obj.name:
        word = ""  # asleep on another object: said in that object's band
    word = word.strip().replace("asleep in ", "zz ")
    row = k.Row(inner)
    if word:
        row.add(f" {k.cut(word, inner - 2)} ", wstyle)
    bottom = row.done("─", color)
    return [Segment("└", color), *bottom, Segment("┘", color)]


def _edge(
    state: State, obj: Obj, pid: int, verbs: dict[str, int], width: int, put_side: bool
) -> Line:
    """``─write─▶`` into the object, ``─read──▶`` out of it to the taker; ``◀…▶`` both."""
    p = state.procs.get(pid)
    asleep = p is not None and p.state == "waiting" and p.on == obj.name and p.op in VERBS
    names = sorted(verbs, key=lambda v: (v not in PUTS, v))
    label = "/".join(names)
    newest = max(verbs.values(), default=0)
    color = r.color_of(state, pid)
    if asleep:
        style = k.WAITING
        label = f"zz {VERBS[p.op]}" if p is not None and p.op else label
    elif newest and newest == state.ops:
        style = Style(color="#000000", bgcolor=color, bold=True)
    elif newest and newest > state.ops - max(2, len(state.procs)):
        style = r.fg(color, True)
    else:
        style = DIM_EDGE
    both = put_side and any(v not in PUTS for v in names)
    head, tail = ("◀" if both else "─"), "▶"
    room = width - 3
    if len(label) > room and not asleep:
        label = names[0]  # the verb that puts first: ◀ still says it also takes
    label = k.cut(label, room)
    pad = room - len(label)
    text = head + "─" * (pad // 2) + label + "─" * (pad - pad // 2) + tail + " "
    if not put_side:
        text = " " + text[:-1]
    return [Segment(text, style)]
