"""Handout page: every narration step's screenshot, in order, with its narration beside it.

One file, nothing fetched from anywhere: the SVGs are inline (their web-font URLs removed),
the style sheet is inline. Every text that comes from the trace (titles, narration, names)
is escaped with :func:`html.escape`: a trace is data, never markup.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from ipcviz import bytefmt
from ipcviz.errors import IpcvizError
from ipcviz.export.svg import Shot, screenshots

_STYLE = """
body { background: #ffffff; color: #111111; font-family: system-ui, sans-serif; margin: 2em; }
header h1 { margin-bottom: 0.2em; }
section.step { display: flex; gap: 1.5em; align-items: flex-start; margin: 2em 0;
               page-break-inside: avoid; border-top: 1px solid #cccccc; padding-top: 1em; }
section.step .shot { flex: 3; min-width: 0; }
section.step .shot svg { width: 100%; height: auto; }
section.step .text { flex: 1; min-width: 16em; font-size: 1.15em; line-height: 1.45; }
.tag { background: #ffd700; color: #000000; font-weight: bold; padding: 0 0.3em;
       margin-right: 0.3em; }
.meta { color: #555555; font-size: 0.85em; }
"""


def _e(value: Any, limit: int | None = 2000) -> str:
    """Untrusted text from a trace → safe HTML text (no control bytes, escaped)."""
    return html.escape(bytefmt.safe_text(str(value), limit), quote=True)


def _strip_comments(svg: str) -> str:
    start = svg.find("<!--")
    while start != -1:
        end = svg.find("-->", start)
        if end == -1:
            break
        svg = svg[:start] + svg[end + 3 :]
        start = svg.find("<!--")
    return svg


def render_page(header: dict[str, Any], shots: list[Shot]) -> str:
    """The whole handout as one HTML document."""
    sc = header.get("scenario", {})
    title = f"ipcviz · {sc.get('id', '')} · {sc.get('title', '')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title, 200)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<header><h1>{_e(sc.get('title', ''), 200)}</h1>",
        f'<p class="meta">scenario {_e(sc.get("id", ""), 80)} · teaches '
        f"{_e(' '.join(map(str, sc.get('teaches', []))), 200)} · recorded "
        f"{_e(header.get('start', ''), 80)} on {_e(header.get('host', ''), 80)}</p>",
        f"<p>{_e(sc.get('description', ''), 4000)}</p></header>",
    ]
    for shot in shots:
        info = shot.info
        tags = "".join(f'<span class="tag">{_e(t, 8)}</span>' for t in info.get("teaches", []))
        texts = [f'<p lang="en">{_e(info.get("en", shot.step))}</p>']
        if info.get("ko"):
            texts.append(f'<p lang="ko">{_e(info["ko"])}</p>')
        parts += [
            f'<section class="step" id="step-{shot.n}">',
            f'<div class="shot">{_strip_comments(shot.svg)}</div>',
            '<div class="text">',
            f"<h2>{shot.n}. {_e(shot.step, 80)}</h2>",
            f"<p>{tags}</p>" if tags else "",
            *texts,
            f'<p class="meta">at {shot.t:.4f} s · by {_e(shot.who, 60)}</p>',
            "</div></section>",
        ]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def export_html(trace: Path, output: Path) -> int:
    """``ipcviz export TRACE --format html -o FILE``: one self-contained handout page."""
    if output.is_dir():
        raise IpcvizError(f"-o {output} is a directory; give a file path for the page")
    header, shots = screenshots(trace)
    try:
        output.write_text(render_page(header, shots), encoding="utf-8")
    except OSError as exc:
        raise IpcvizError(f"cannot write {output}: {exc.strerror}") from None
    print(f"wrote {output} ({len(shots)} step(s))")
    return 0
