"""The diagram view's layout: the lecture figure, from the model, as lines of segments.

Every process is one node, drawn once with its state (a box: its name, and under it
"zz read", "at the gate", "exited"); every kernel object is a box in the middle column
with its state drawn inside by its mechanism (``registry.diagram(type)``: a tube of bytes,
a row of messages, a grid of cells, tokens and sleepers). The scenario's first declared
half of its processes stands on the left, the rest on the right, fixed for the run
(parent | child, producers | consumers: the lecture's writer → object → reader). An edge
runs from each process to each object it uses (``State.uses``), labelled with what it
did: straight across when the process's box is level with its place on the object, else
along the process's own lane (a vertical line in its colour) and in. The newest
operation's edge is lit (reversed, in the process's colour), the few before it bold: the
lighting follows the events, never a clock, so live, replay and tests agree.

No Textual: ``diagram_lines(state, width, height)`` is a pure function of the model, tried
in less and less roomy forms until it fits the height (200×60: boxes and roomy objects;
80×24: one-row process nodes, objects at their least). When even that does not fit (a
mesh of 12 pipes at 80×24), a table: a column per process (its name and state on top), a
row per object, the edge's verb where they meet, and a last row saying why (the rows the
figure needs and has; the screen adds how to give it more).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from ipcviz import bytefmt
from ipcviz.draw import diagram_kit as k
from ipcviz.draw import palette as P
from ipcviz.draw import render as r
from ipcviz.i18n import N_, _, ngettext
from ipcviz.mechanisms import registry
from ipcviz.model.state import Obj, Proc, State

Line = k.Line
VERBS = registry.verbs()
PUTS = registry.puts()
#: The word for a call a process sleeps in: its edge's verb (``read``), else the call's own
#: name (a FIFO's ``open`` waits for the other end: no use of the data, so no edge verb,
#: and it was drawn ``zz pipe.op…`` with no edge to the FIFO it waits on)
SLEEPS = {
    kind: kind.rpartition(".")[2] for kind in registry.kinds() if not kind.endswith(".begin")
} | VERBS
#: Most interior rows an object gets, however much room there is.
MAX_ROWS = 8
DIM_EDGE = Style(color=P.SHADOW)
#: The widest an object's box gets: wider, a short state floats in empty space; the rest
#: of a wide screen goes to the margins, so the figure stays together in the middle.
MAX_OBJW = 110


@dataclass(frozen=True)
class Mode:
    """How roomy a drawing is (``MODES``: the first that fits the height wins)."""

    boxes: bool  # processes as 3-row boxes (else one row each)
    roomy: bool  # objects get the rows their state wants (else their least)
    gap: bool  # a blank row between objects


MODES = (
    Mode(boxes=True, roomy=True, gap=True),
    Mode(boxes=True, roomy=False, gap=True),
    Mode(boxes=False, roomy=True, gap=True),
    Mode(boxes=False, roomy=False, gap=True),
    Mode(boxes=False, roomy=False, gap=False),
)


def diagram_lines(state: State, width: int, height: int, more: str = "") -> list[Line]:
    """The diagram at ``width`` × at most ``height`` rows; ``more`` ends the table's line
    saying why it is a table (how the screen gives the figure more rows)."""
    width = max(20, width)
    if not state.objects:
        return [k.text_line(width, " " + _("no kernel objects yet"), k.LABEL)]
    graph = _Graph.of(state, width)
    for mode in MODES:  # measured, not drawn: a frame draws once
        plan = graph.plan(mode)
        if plan.height <= height:
            return graph.draw(plan)
    table = _table(state, graph, width, height)
    if len(table) < height:  # room for why: the last mode is the least the figure needs
        said = _("the diagram needs {need} rows, {have} here").format(need=plan.height, have=height)
        if len(table) + 1 < height:
            table.append(k.text_line(width, "", k.LABEL))
        table.append(k.text_line(width, " " + said + more, k.LABEL))
    return table


# -- who is where ---------------------------------------------------------------------------


def _uses(state: State, obj: Obj) -> dict[int, dict[str, int]]:
    """The processes that use ``obj`` and how (verb → the op number of its last use); a
    process that holds it but has not used it yet, or sleeps on it, counts (a quiet edge)."""
    uses = {pid: dict(v) for pid, v in state.uses.get(obj.name, {}).items() if pid in state.procs}
    view = registry.diagram(obj.type)
    if (
        view is not None
        and hasattr(view, "holders")
        and isinstance(obj, registry.state_of(obj.type))
    ):
        for pid, verb in view.holders(state, obj).items():
            if pid not in uses and pid in state.procs:
                uses[pid] = {verb: 0}
    for p in state.procs.values():
        if _sleeps_on(p, obj.name):
            uses.setdefault(p.pid, {}).setdefault(SLEEPS[p.op], 0)
    return uses


def _sleeps_on(p: Proc, name: str) -> bool:
    """``p`` sleeps in a call on object ``name``: its one object, or one of several (a
    System V semop taking from two semaphores waits for both: an edge to each)."""
    if p.state != "waiting" or p.op not in SLEEPS:
        return False
    return p.on == name or name in p.ons


@dataclass
class _Edge:
    pid: int
    obj: str
    verbs: dict[str, int]
    left: bool  # the process stands on the left
    attach: int = 0  # the row it enters the object's box
    lane: int = -1  # its process's lane (-1: none, the edge is straight)


@dataclass
class _Plan:
    """Rows of one drawing: where each object and process box starts."""

    mode: Mode
    obj_top: dict[str, int] = field(default_factory=dict)
    obj_rows: dict[str, int] = field(default_factory=dict)  # interior rows
    proc_top: dict[int, int] = field(default_factory=dict)
    lanes: dict[int, int] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    height: int = 0


class _Graph:
    """The processes' sides and the columns' widths (the same in every mode)."""

    def __init__(self, state: State, width: int) -> None:
        self.state, self.width = state, width
        self.uses = {name: _uses(state, obj) for name, obj in state.objects.items()}
        # Sides are fixed for the whole run, so no box jumps while people watch: the
        # scenario's processes in the order it declares them, the first half on the left
        # (parent | child, producers | consumers, writer | reader); any other process
        # (forked, traced) on the side with fewer, in the order they started.
        declared = [str(n) for n in state.header.get("scenario", {}).get("processes", [])]
        half = (len(declared) + 1) // 2
        self.left: list[int] = []
        self.right: list[int] = []
        others: list[int] = []
        for pid, proc in state.procs.items():
            if proc.name in declared:
                (self.left if declared.index(proc.name) < half else self.right).append(pid)
            else:
                others.append(pid)
        for pid in others:
            (self.left if len(self.left) <= len(self.right) else self.right).append(pid)
        names = [min(16, cell_len(bytefmt.safe_text(p.name, 256))) for p in state.procs.values()]
        want = max(max(names, default=6) + 4, 15)  # "at the gate" under a short name
        self.procw = max(9, min(20, want, width // 6), 11 if width >= 66 else 9)
        labels = [cell_len("/".join(v)) for uses in self.uses.values() for v in uses.values()] or [
            5
        ]
        self.labw = max(10, min(max(labels) + 4, 14))  # "zz read" fits

    @classmethod
    def of(cls, state: State, width: int) -> _Graph:
        return cls(state, width)

    def side_width(self, pids: list[int], lanes: int) -> int:
        return self.procw + lanes + self.labw if pids else 0

    def plan(self, mode: Mode) -> _Plan:
        """Place objects top to bottom, each process level with its first object."""
        plan = _Plan(mode)
        state = self.state
        lw = self.side_width(self.left, len(self.left))
        rw = self.side_width(self.right, len(self.right))
        self.objw = max(12, min(MAX_OBJW, self.width - lw - rw))
        y = 0
        order = {pid: i for i, pid in enumerate(state.procs)}
        first_attach: dict[int, int] = {}
        for name, obj in state.objects.items():
            uses = self.uses[name]
            pids = sorted(uses, key=lambda pid: order.get(pid, 1 << 30))
            ls = [pid for pid in pids if pid in self.left]
            rs = [pid for pid in pids if pid in self.right]
            view = _view(obj)
            rows = max(_rows(state, obj, view, self.objw - 2, mode), len(ls), len(rs), 1)
            if y and mode.gap:
                y += 1
            plan.obj_top[name], plan.obj_rows[name] = y, rows
            for side in (ls, rs):
                for n, pid in enumerate(side):
                    edge = _Edge(pid, name, uses[pid], pid in self.left, y + 1 + n)
                    plan.edges.append(edge)
                    first_attach.setdefault(pid, edge.attach)
            y += rows + 2
        per = 3 if mode.boxes else 1
        for column in (self.left, self.right):
            bottom = 0
            by_want = sorted(column, key=lambda pid: first_attach.get(pid, 1 << 30))
            for pid in by_want:
                want = first_attach.get(pid, bottom + per // 2) - per // 2
                top = max(bottom, want)
                plan.proc_top[pid] = top
                bottom = top + per
            y = max(y, bottom)
            lane = 0
            for pid in by_want:  # a lane for each process with an edge not straight across
                mid = plan.proc_top[pid] + per // 2
                if any(e.pid == pid and e.attach != mid for e in plan.edges):
                    plan.lanes[pid] = lane
                    lane += 1
        for e in plan.edges:
            e.lane = plan.lanes.get(e.pid, -1)
        plan.height = y
        return plan

    # -- drawing ----------------------------------------------------------------------------

    def draw(self, plan: _Plan) -> list[Line]:
        state, width = self.state, self.width
        nl = sum(1 for pid in self.left if pid in plan.lanes)
        nr = sum(1 for pid in self.right if pid in plan.lanes)
        lw = self.side_width(self.left, nl)
        rw = self.side_width(self.right, nr)
        objw = max(12, min(MAX_OBJW, width - lw - rw))
        margin = max(0, (width - lw - rw - objw) // 2)
        ox = margin + lw  # the objects' column
        grid = _Grid(width, plan.height)
        # lines first (edges), then boxes over their ends, the lit edge last of the lines
        lit_edges = [e for e in plan.edges if self._style(e)[1]]
        for e in [e for e in plan.edges if e not in lit_edges] + lit_edges:
            self._edge(grid, plan, e, margin, ox, objw, nl, nr)
        for name, obj in state.objects.items():
            view = _view(obj)
            lit = (
                any(n == state.ops for v in self.uses[name].values() for n in v.values())
                and state.ops > 0
            )
            box = _object_box(state, obj, view, objw, plan.obj_rows[name], lit)
            for dy, line in enumerate(box):
                grid.blit(ox, plan.obj_top[name] + dy, line)
        per = 3 if plan.mode.boxes else 1
        for pid, top in plan.proc_top.items():
            left = pid in self.left
            x = margin if left else width - margin - self.procw
            for dy in range(per):
                grid.blit(x, top + dy, _proc_row(state, pid, self.procw, plan.mode, dy))
        return grid.lines()

    def _style(self, e: _Edge) -> tuple[Style, bool]:
        """The edge's style, and whether it is the newest operation's (lit)."""
        state = self.state
        p = state.procs.get(e.pid)
        newest = max(e.verbs.values(), default=0)
        color = r.color_of(state, e.pid)
        if p is not None and _sleeps_on(p, e.obj):
            return k.WAITING, False
        if newest and newest == state.ops:
            return Style(color=P.BLACK, bgcolor=color, bold=True), True
        if newest and newest > state.ops - max(2, len(state.procs)):
            return r.fg(color, True), False
        return DIM_EDGE, False

    def _words(self, e: _Edge) -> str:
        """What the edge says: its verbs, puts first (``write/read``), or ``zz read`` while
        its process sleeps in that call on this object."""
        p = self.state.procs.get(e.pid)
        if p is not None and _sleeps_on(p, e.obj):
            return f"zz {SLEEPS[p.op]}"
        return "/".join(sorted(e.verbs, key=lambda v: (v not in PUTS, v)))

    def _label(self, e: _Edge, room: int) -> str:
        """``─write─▶`` into the object, ``◀─read──`` out of it to the taker, ``◀…▶`` both."""
        names = sorted(e.verbs, key=lambda v: (v not in PUTS, v))
        label = self._words(e)
        puts = any(v in PUTS for v in names)
        takes = any(v not in PUTS for v in names)
        inward = puts  # the arrow points at the object
        outward = takes or not puts
        room -= 3
        # cut, never shortened to its first verb: ``◀send▶`` said a process only sent to
        # a queue it also received from (``◀send/r…▶`` says there is more)
        label = k.cut(label, max(1, room))
        pad = max(0, room - cell_len(label))
        body = "─" * (pad // 2) + label + "─" * (pad - pad // 2)
        # drawn left to right; the object is on the right of a left process's edge
        if e.left:
            head = "◀" if outward else "─"
            tail = "▶" if inward else "─"
        else:
            head = "◀" if inward else "─"
            tail = "▶" if outward else "─"
        return head + body + tail + " " if e.left else " " + head + body + tail

    def _edge(
        self, grid: _Grid, plan: _Plan, e: _Edge, margin: int, ox: int, objw: int, nl: int, nr: int
    ) -> None:
        style, _lit = self._style(e)
        line = Style(color=r.color_of(self.state, e.pid))  # its lane: the process's colour
        per = 3 if plan.mode.boxes else 1
        mid = plan.proc_top[e.pid] + per // 2
        # the label (what it did, the arrow) fills the cells beside the object; lanes run
        # between it and the processes, and lines cross there (┼), never a label
        if e.left:
            px = margin + self.procw  # first cell right of the box
            lane_x = px + e.lane if e.lane >= 0 else None
            seg = self._label(e, self.labw)
            at = ox - len(seg)
            if lane_x is not None:
                grid.hline(px, lane_x, mid, line)
                grid.join(lane_x, mid, "L", line)
                grid.vline(lane_x, mid, e.attach, line)
                grid.join(lane_x, e.attach, "R", line)
                grid.hline(lane_x + 1, at, e.attach, line)
            else:
                grid.hline(px, at, e.attach, line)
            grid.text(at, e.attach, seg, style)
        else:
            px = self.width - margin - self.procw - 1  # last cell left of the box
            lane_x = ox + objw + self.labw + (nr - 1 - e.lane) if e.lane >= 0 else None
            start = ox + objw
            seg = self._label(e, self.labw)
            if lane_x is not None:
                grid.hline(lane_x + 1, px + 1, mid, line)
                grid.join(lane_x, mid, "R", line)
                grid.vline(lane_x, mid, e.attach, line)
                grid.join(lane_x, e.attach, "L", line)
                grid.hline(start + len(seg), lane_x, e.attach, line)
            else:
                grid.hline(start + len(seg), px + 1, e.attach, line)
            grid.text(start, e.attach, seg, style)


def _view(obj: Obj) -> ModuleType | None:
    view = registry.diagram(obj.type)
    if view is not None and not isinstance(obj, registry.state_of(obj.type)):
        return None
    return view


def _proc_state(p: Proc) -> tuple[str, str, Style]:
    """What a process node says: (``exited`` / ``asleep`` / ``gate`` / ``""``, the call it
    sleeps in, the style)."""
    if not p.alive:
        return "exited", "", k.HOLE
    if p.state == "waiting" and p.op:
        verb = SLEEPS.get(p.op) or bytefmt.safe_text(str(p.op), 16)  # a trace's: untrusted
        return "asleep", verb, k.WAITING
    if p.gated_op:
        return "gate", "", Style(color=P.GATE)
    return "", "", k.LABEL


def _proc_word(p: Proc) -> tuple[str, Style]:
    """In words (a roomy node): `` exited``, `` asleep in read``, `` at the gate``."""
    kind, verb, style = _proc_state(p)
    if kind == "exited":
        return " " + _("exited"), style
    if kind == "asleep":
        return " " + _("asleep in {call}").format(call=verb), style
    if kind == "gate":
        return " " + _("at the gate"), style
    return "", style


def _rows(state: State, obj: Obj, view: ModuleType | None, inner: int, mode: Mode) -> int:
    if view is None:
        return 1
    if not mode.roomy:
        return max(1, view.rows_least(state, obj, inner))
    return max(1, min(view.rows_wanted(state, obj, inner), MAX_ROWS))


def _object_box(
    state: State, obj: Obj, view: ModuleType | None, width: int, rows: int, lit: bool
) -> list[Line]:
    """The object's box: name, type and a caption on the top edge, its state inside.

    What the top edge has no room for goes on the bottom edge instead of being cut (at
    80x24 a box is about 30 cells wide): "removed", then the caption, in the first of its
    forms that fits (``view.captions``: a reading's age outlasts its words). The type is
    left out rather than cut ("sysv_s…" says nothing); the name is never given up."""
    inner = width - 2
    frame = k.LIT_FRAME if lit else k.FRAME
    top = k.Row(width - 1)
    top.add("╭─", frame)
    top.add(f" {bytefmt.safe_text(obj.name, 24)} ", k.NAME)
    gone = " " + _("removed") + " " if obj.removed else ""
    kind = f"{bytefmt.safe_text(obj.type, 16)} "
    if cell_len(kind) + cell_len(gone) < top.room():  # (one "─" before "╮" stays)
        top.add(kind, k.LABEL)
    elif cell_len(kind) < top.room() and cell_len(gone) >= top.room():
        top.add(kind, k.LABEL)  # "removed" goes below either way
    said = f"─ {view.caption(state, obj)} " if view is not None else ""
    if gone and cell_len(gone) + cell_len(said) < top.room():
        top.add(said, r.FG).add(gone, r.WARN)
        gone = said = ""
    elif gone and cell_len(gone) < top.room():
        top.add(gone, r.WARN)
        gone = ""
    elif said and cell_len(said) < top.room():
        top.add(said, r.FG)
        said = ""
    top.add("─" * top.room(), frame)
    top.segments.append(Segment("╮", frame))
    bottom = k.Row(inner - 2)  # between "╰─" and the last "─╯"
    if gone:
        bottom.add(gone, r.WARN)
    if said and view is not None:
        forms = getattr(view, "captions", None)
        sep = "─ " if gone else " "  # " removed ─ value 0 " or " value 0 "
        room = bottom.room() - cell_len(sep) - 1
        fitted = _fitted(forms(state, obj) if forms else [said[2:-1]], room, cut=not gone)
        if fitted:
            bottom.add(f"{sep}{fitted} ", r.FG)
    if view is not None:
        body = view.draw(state, obj, inner, rows, lit)
    else:
        n = len(obj.info)
        said = ngettext(
            "{n} field (no drawing for this type)", "{n} fields (no drawing for this type)", n
        ).format(n=n)
        body = [k.text_line(inner, " " + said, k.LABEL)]
    out = [top.done()]
    body = body[: max(rows, 1)]
    body += [k.blank(inner) for _ in range(max(rows, 1) - len(body))]  # as tall as measured
    for line in body:
        out.append([Segment("│", frame), *line, Segment("│", frame)])
    if bottom.used:
        line = [Segment("╰─", frame), *bottom.segments]
        out.append([*line, Segment("─" * (bottom.room() + 1) + "╯", frame)])
    else:
        out.append([Segment("╰" + "─" * inner + "╯", frame)])
    return out


def _fitted(forms: list[str], cells: int, cut: bool = True) -> str:
    """The first of ``forms`` (fullest first) in ``cells`` cells, else the last one cut
    (``cut``), or nothing: beside "removed", "removed ─ v…" says no more than "removed"."""
    for form in forms:
        if cell_len(form) <= cells:
            return form
    return k.cut(forms[-1], cells) if forms and cut else ""


# -- process nodes, the grid they are drawn on, the table ---------------------------------


def _short_word(p: Proc) -> tuple[str, Style]:
    """A process's state in a word or two (a one-row node, the table's header)."""
    kind, verb, style = _proc_state(p)
    if kind == "asleep":
        return f"zz {verb}", style
    return (_(SHORT[kind]) if kind else ""), style


#: A process's state in one word (``zz read``: asleep in read, whatever the language).
SHORT = {"exited": N_("exit"), "gate": N_("gate")}


def _proc_row(state: State, pid: int, width: int, mode: Mode, dy: int) -> Line:
    """Row ``dy`` of a process's node: a box with its name, and under it what it is doing
    (asleep in a call, held at the step gate, exited); compact, one row: its name on its
    colour and a word."""
    p = state.procs.get(pid)
    word, wstyle = _proc_word(p) if p is not None else ("", k.LABEL)
    word = word.strip()
    if p is not None and _proc_state(p)[0] == "asleep":
        word = _short_word(p)[0]  # ``zz read``: the node's one row
    if not mode.boxes:
        text, chip_style = k.chip(state, pid, width - 2)
        row = k.Row(width).add(text, chip_style)
        short, _style = _short_word(p) if p is not None else ("", k.LABEL)
        if short and row.room() > 2:
            row.add(" " + k.cut(short, row.room() - 1), wstyle)
        return row.done()
    name, style = k.proc_name(state, pid, width - 4)
    color = Style(color=r.color_of(state, pid))
    inner = width - 2
    if dy == 0:
        return [Segment("┌" + "─" * inner + "┐", color)]
    if dy == 1:
        return [Segment("│", color), *k.Row(inner).add(name, style).done(), Segment("│", color)]
    row = k.Row(inner)
    if word:
        row.add(f" {k.cut(word, inner - 2)} ", wstyle)
    return [Segment("└", color), *row.done("─", color), Segment("┘", color)]


#: Line directions → box-drawing character (edges cross and join on the grid).
_JOIN = {
    frozenset("LR"): "─",
    frozenset("UD"): "│",
    frozenset("RD"): "┌",
    frozenset("LD"): "┐",
    frozenset("RU"): "└",
    frozenset("LU"): "┘",
    frozenset("LRD"): "┬",
    frozenset("LRU"): "┴",
    frozenset("UDR"): "├",
    frozenset("UDL"): "┤",
    frozenset("LRUD"): "┼",
    frozenset("L"): "─",
    frozenset("R"): "─",
    frozenset("U"): "│",
    frozenset("D"): "│",
}


class _Grid:
    """Cells of one drawing: text (boxes, labels) and lines (edges) that join where they
    meet; a line never draws over text."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells: list[list[tuple[str, Style]]] = [[(" ", r.FG)] * width for _ in range(height)]
        self.dirs: dict[tuple[int, int], set[str]] = {}
        self.solid: set[tuple[int, int]] = set()

    def _line(self, x: int, y: int, d: str, style: Style) -> None:
        if 0 <= x < self.width and 0 <= y < self.height and (x, y) not in self.solid:
            self.dirs.setdefault((x, y), set()).add(d)
            self.cells[y][x] = (self.cells[y][x][0], style)

    def hline(self, x0: int, x1: int, y: int, style: Style) -> None:
        for x in range(min(x0, x1), max(x0, x1)):
            self._line(x, y, "L", style)
            self._line(x, y, "R", style)

    def vline(self, x: int, y0: int, y1: int, style: Style) -> None:
        lo, hi = min(y0, y1), max(y0, y1)
        for y in range(lo, hi + 1):
            if y > lo:
                self._line(x, y, "U", style)
            if y < hi:
                self._line(x, y, "D", style)

    def join(self, x: int, y: int, d: str, style: Style) -> None:
        self._line(x, y, d, style)

    def text(self, x: int, y: int, text: str, style: Style) -> None:
        self.blit(x, y, [Segment(text, style)])

    def blit(self, x: int, y: int, line: Line) -> None:
        if not 0 <= y < self.height:
            return
        for seg in line:
            for ch in seg.text:
                w = cell_len(ch)
                if x + w > self.width:
                    return
                if x >= 0:
                    self.cells[y][x] = (ch, seg.style or r.FG)
                    self.dirs.pop((x, y), None)
                    self.solid.add((x, y))
                    if w == 2:
                        self.cells[y][x + 1] = ("", seg.style or r.FG)
                        self.solid.add((x + 1, y))
                x += w

    def lines(self) -> list[Line]:
        out: list[Line] = []
        for y, row in enumerate(self.cells):
            segs: Line = []
            run, style = "", None
            for x, (ch, st) in enumerate(row):
                d = self.dirs.get((x, y))
                if d:
                    ch = _JOIN.get(frozenset(d), "┼")
                if st is not style and run:
                    segs.append(Segment(run, style))
                    run = ""
                style = st
                run += ch
            if run:
                segs.append(Segment(run, style))
            out.append(segs)
        return out


def _table(state: State, graph: _Graph, width: int, height: int) -> list[Line]:
    """Too many objects for the figure: a column per process (its name on its colour, and
    its state), a row per object (its name, type and caption), the edge's verb where they
    meet, lit as the figure's edges are."""
    pids = list(state.procs)
    namew = max(14, min(30, width // 3))
    colw = max(6, min(14, (width - namew) // max(1, len(pids))))
    shown = pids[: max(1, (width - namew) // colw)]
    head, sub = k.Row(width), k.Row(width)
    head.add(k.ljust(k.cut(" " + _("objects"), namew), namew), k.LABEL)
    sub.add(" " * namew)
    words = {pid: _short_word(state.procs[pid]) for pid in shown}
    chips = {pid: k.chip(state, pid, colw - 3) for pid in shown}
    # a name and its state side by side when every column has room, else the state below
    one_row = all(cell_len(chips[pid][0]) + 1 + cell_len(words[pid][0]) <= colw for pid in shown)
    for pid in shown:
        text, style = chips[pid]
        word, wstyle = words[pid]
        head.add(text, style)
        if one_row:
            head.add(f" {word}" if word else "", wstyle)
            head.add(" " * max(0, colw - cell_len(text) - (cell_len(word) + 1 if word else 0)))
        else:
            head.add(" " * max(0, colw - cell_len(text)))
            sub.add(k.ljust(k.cut(word, colw - 1), colw), wstyle)
    if len(shown) < len(pids):
        head.add(f"+{len(pids) - len(shown)}", k.LABEL)
    out = [head.done()] if one_row else [head.done(), sub.done()]
    names = list(state.objects)
    room = height - len(out)
    if len(names) > room:
        names = names[: max(0, room - 1)]
    for name in names:
        obj = state.objects[name]
        row = k.Row(width)
        view = _view(obj)
        label = f" {bytefmt.safe_text(name, 16)}"
        row.add(label, k.NAME)
        caption = view.caption(state, obj) if view is not None else obj.type
        room = namew - cell_len(label) - 1
        row.add(k.ljust(k.cut(f" {caption}", room), room + 1), k.LABEL)
        for pid in shown:
            verbs = graph.uses[name].get(pid)
            if verbs is None:
                row.add("·".ljust(colw), k.HOLE)
                continue
            e = _Edge(pid, name, verbs, True)
            style, _lit = graph._style(e)
            text = graph._words(e)
            row.add(k.cut(text, colw - 1), style).add(" " * max(0, colw - cell_len(text)))
        out.append(row.done())
    left = len(state.objects) - len(names)
    if left:
        said = ngettext(
            "… {n} more object: a taller window", "… {n} more objects: a taller window", left
        ).format(n=left)
        out.append(k.text_line(width, " " + said, k.LABEL))
    return out[:height]
