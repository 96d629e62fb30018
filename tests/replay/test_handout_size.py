"""The HTML handout grows linearly with the narration steps and embeds compact pictures
(each row drawn once in the page, then referenced) that show exactly what the SVG files show."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from ipcviz.export.html import compact_svg
from tests.lecture.test_handouts import svg_rows

FIXTURE = Path(__file__).parents[1] / "tui" / "traces" / "pipe-basic.jsonl"
SVG = re.compile(r"<svg.*?</svg>", re.S)
RECT = re.compile(
    r'<rect fill="(#\w+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"'
)


def narrated_trace(path: Path, steps: int) -> Path:
    """The pipe-basic fixture's objects and processes, then ``steps`` times: five writes
    and a narration step (the shape of a long lecture run)."""
    lines = FIXTURE.read_text().splitlines()
    header = json.loads(lines[0])
    setup = [json.loads(x) for x in lines[1:]]
    setup = [e for e in setup if e["kind"] in ("obj.declare", "proc.start")]
    ids = [s["id"] for s in header["scenario"]["steps"]]
    pid = next(e["pid"] for e in setup if e["kind"] == "proc.start")
    events = list(setup)
    for i in range(steps):
        for j in range(5):
            data = base64.b64encode(b"hello%d" % j).decode()
            events.append({"pid": pid, "kind": "pipe.write", "obj": "p", "n": 6, "data": data})
        events.append({"pid": pid, "kind": "narrate", "step": ids[i % len(ids)]})
    for seq, e in enumerate(events):
        e["seq"], e["t"] = seq, 1000 * (seq + 1)
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    return path


def export(trace: Path, fmt: str, out: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "ipcviz", "export", str(trace), "--format", fmt, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr


def test_page_grows_linearly_with_compact_pictures(tmp_path: Path) -> None:
    sizes = {}
    for steps in (2, 4, 8):
        trace = narrated_trace(tmp_path / f"t{steps}.jsonl", steps)
        export(trace, "html", tmp_path / f"p{steps}.html")
        sizes[steps] = (tmp_path / f"p{steps}.html").stat().st_size
    per_step = [(sizes[4] - sizes[2]) / 2, (sizes[8] - sizes[4]) / 4]
    # a 160x48 screen (Rich's SVG: ~110 KB, compacted ~47 KB) costs only the rows it changes
    assert max(per_step) < 20_000, per_step
    assert max(per_step) < 1.3 * min(per_step), per_step  # linear: the same cost per step
    # the page shows what the SVG files show, row for row
    export(tmp_path / "t4.jsonl", "svg", tmp_path / "svg")
    page = (tmp_path / "p4.html").read_text(encoding="utf-8")
    files = sorted((tmp_path / "svg").glob("*.svg"))
    embedded = resolved(page)
    assert len(files) == len(embedded) == 4
    for f, svg in zip(files, embedded, strict=True):
        original = f.read_text(encoding="utf-8")
        assert svg_rows(svg) == svg_rows(original)
        assert background(svg) == background(original)
        assert len(svg) < 0.6 * len(original)


DEF = re.compile(r'<g id="(h\d+)">(.*?)</g>', re.S)
USE = re.compile(r'<use href="#(h\d+)"(?: y="([-\d.e]+)")?/>')
Y = re.compile(r' y="([\d.]+)"')


def resolved(page: str) -> list[str]:
    """The page's pictures with every shared row put back in place: a ``<use>`` replaced by
    the row it refers to, moved by its ``y``; then each picture stands alone."""
    rows = {m.group(1): m.group(2) for m in DEF.finditer(page)}

    def expand(use: re.Match[str]) -> str:
        dy = float(use.group(2) or 0)
        return Y.sub(lambda y: f' y="{round(float(y.group(1)) + dy, 4):g}"', rows[use.group(1)])

    return [DEF.sub(r"\2", USE.sub(expand, svg)) for svg in SVG.findall(page)]


def background(svg: str) -> dict[tuple[str, str], float]:
    """Per colour and row: how much of the row's width the background rectangles cover."""
    cover: dict[tuple[str, str], float] = defaultdict(float)
    for fill, _x, y, width, _h in RECT.findall(svg):
        cover[fill, y] += float(width)
    return {k: round(v, 3) for k, v in cover.items()}


def test_compact_svg_leaves_foreign_svg_alone() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="#000000" x="0"/></svg>'
    assert compact_svg(svg, 1) == svg
