"""Handout page: every narration step's screenshot, in order, with its narration beside it.

On screen the narration sits beside the picture; printed, every step is a page of its own
(its number, teaching points and narration above the picture of the step's end).

One file, nothing fetched from anywhere: the SVGs are inline (their web-font URLs removed),
the style sheet is inline. Every text that comes from the trace (titles, narration, names)
is escaped with :func:`html.escape`: a trace is data, never markup.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ipcviz import bytefmt
from ipcviz.export.svg import DEFAULT_THEME, DEFAULT_VIEW, Shot, each_shot, handout_lang
from ipcviz.i18n import _, translate

#: Text fonts: the system's, then ones with Hangul and CJK (narration may be Korean).
TEXT_FONTS = (
    'system-ui, "Noto Sans", "Noto Sans CJK KR", "Noto Sans KR", "Nanum Gothic", '
    '"Malgun Gothic", "Apple SD Gothic Neo", sans-serif'
)

_STYLE = """
body { background: #ffffff; color: #111111; font-family: %FONTS%; margin: 2em; }
header h1 { margin-bottom: 0.2em; }
section.step { display: flex; gap: 1.5em; align-items: flex-start; margin: 2em 0;
               page-break-inside: avoid; border-top: 1px solid #cccccc; padding-top: 1em; }
section.step .shot { flex: 3; min-width: 0; }
section.step .shot svg { width: 100%; height: auto; }
section.step .text { flex: 1; min-width: 16em; font-size: 1.15em; line-height: 1.45; }
.tag { background: #ffd700; color: #000000; font-weight: bold; padding: 0 0.3em;
       margin-right: 0.3em; }
.meta { color: #555555; font-size: 0.85em; }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  body { margin: 0; }
  section.step { display: block; break-before: page; page-break-before: always;
                 border-top: none; margin: 0; padding: 0; }
  section.step .text { font-size: 11pt; line-height: 1.3; margin-bottom: 0.4em; }
  section.step .text p { margin: 0.2em 0; }
  section.step .text h2 { margin: 0 0 0.3em 0; }
  section.step .shot svg { max-height: 125mm; }
}
""".replace("%FONTS%", TEXT_FONTS)


def _e(value: Any, limit: int | None = 2000) -> str:
    """Untrusted text from a trace → safe HTML text (no control bytes, escaped)."""
    return html.escape(bytefmt.safe_text(str(value), limit), quote=True)


def compact_svg(svg: str, n: int) -> str:
    """A Rich terminal SVG made about half as large for the page, drawing the same picture.

    A handout embeds one screenshot per step, so the page is as large as its pictures:
    per-line clip paths go (text already has its exact length), ``&#160;`` becomes the
    character itself, side-by-side background cells of one colour become one rectangle,
    and the long unique id a short one (unique in the page). Anything not in Rich's
    expected shape is left as it is.
    """
    m = _UID.search(svg)
    if m is None:
        return svg
    uid = m.group(1)
    svg = re.sub(rf'\s*<clipPath id="{uid}-line-\d+">\s*<rect[^>]*/>\s*</clipPath>', "", svg)
    svg = re.sub(rf' clip-path="url\(#{uid}-line-\d+\)"', "", svg)
    svg = svg.replace("&#160;", "\u00a0")
    svg = _CELLS.sub(lambda run: _merged(run.group(0)), svg)
    return svg.replace(uid, f"s{n}")


def _merged(run: str) -> str:
    """Background rectangles in a row: each stretch of one colour on one line as one."""
    out: list[list[str]] = []  # [fill, x, y, width, height]
    for fill, x, y, width, height in _CELL.findall(run):
        last = out[-1] if out else None
        if (
            last is not None
            and last[0] == fill
            and last[2] == y
            and last[4] == height
            and abs(float(last[1]) + float(last[3]) - float(x)) < 1e-6
        ):
            last[3] = f"{float(last[3]) + float(width):.6g}"
        else:
            out.append([fill, x, y, width, height])
    return "".join(
        f'<rect fill="{f}" x="{x}" y="{y}" width="{w}" height="{h}" shape-rendering="crispEdges"/>'
        for f, x, y, w, h in out
    )


_UID = re.compile(r'class="(terminal-\d+)-matrix"')
_RECT = '<rect fill="{c}" x="{n}" y="{n}" width="{n}" height="{n}" shape-rendering="crispEdges"/>'
#: One background cell (groups: fill, x, y, width, height), and a run of them.
_CELL = re.compile(_RECT.format(c="(#[0-9a-fA-F]{6})", n=r"([\d.]+)"))
_CELLS = re.compile("(?:" + _RECT.format(c="#[0-9a-fA-F]{6}", n=r"[\d.]+") + ")+")


class PagePictures:
    """Makes each step's picture small *for this page*: what the pictures share is drawn once.

    A lecture's screens differ little from one step to the next (a few rows change, the log
    scrolls), and one page holds them all, so each picture carries only what is new:

    - style rules, fonts: each distinct rule once in the page, under a short class name
      (a ``<style>`` inside an inline SVG applies to the whole document);
    - rows: each terminal row of background rectangles or of text is a group of elements
      with one ``y``. A row drawn before (at any height: a scrolled log line) becomes
      ``<use href="#hK" y="dy"/>``, a reference to its first drawing moved by ``dy``.

    The page grows with what changes, not with the screen size times the steps. Memory is
    bounded: the rows remembered are the most recent :data:`ROWS_KEPT` (an older row that
    comes back is drawn again). Anything not in Rich's expected shape is left as it is.
    """

    ROWS_KEPT = 4096
    #: Rows shorter than this are written out: a reference would not be shorter.
    MIN_ROW = 60

    def __init__(self) -> None:
        self.classes: dict[str, str] = {}  # rule body -> page-wide class name
        self.fonts: set[str] = set()  # @font-face rules already in the page
        self.rows: OrderedDict[str, tuple[str, float]] = OrderedDict()  # row -> (id, y)
        self._ids = 0

    def picture(self, svg: str, n: int) -> str:
        """Shot ``n``'s SVG as it goes into the page (after the ones before it)."""
        svg = compact_svg(_strip_comments(svg), n)
        style = _STYLE_BLOCK.search(svg)
        if style is None or _UID.search(svg) is not None:  # not compacted: not Rich's shape
            return svg
        new: list[str] = []
        for face in _FONT_FACE.findall(style.group(1)):
            if face not in self.fonts:
                self.fonts.add(face)
                new.append(face)
        rename: dict[str, str] = {}
        for name, body in _RULE.findall(style.group(1)):
            body = " ".join(body.split())
            cls = self.classes.get(body)
            if cls is None:
                cls = self.classes[body] = f"c{len(self.classes)}"
                new.append(f".{cls} {{ {body} }}")
            rename[name] = cls
        css = f"<style>\n{chr(10).join(new)}\n</style>" if new else ""
        svg = svg[: style.start()] + css + svg[style.end() :]
        svg = _CLASS.sub(lambda m: f'class="{rename.get(m.group(1), m.group(1))}"', svg)
        return _ROWS.sub(lambda run: self._rows(run.group(0)), svg)

    def _rows(self, run: str) -> str:
        """A run of rectangles or texts: each row drawn once, else a reference."""
        out: list[str] = []
        row: list[str] = []
        y = None
        for m in _ROW_ITEM.finditer(run):
            at = m.group(1) or m.group(2)
            if at != y and row:
                out.append(self._row(y, "".join(row)))
                row = []
            y = at
            row.append(m.group(0))
        if row:
            out.append(self._row(y, "".join(row)))
        return "".join(out)

    def _row(self, y: str | None, markup: str) -> str:
        if y is None or len(markup) < self.MIN_ROW:
            return markup
        key = markup.replace(f' y="{y}"', ' y=""')
        seen = self.rows.get(key)
        if seen is not None:
            self.rows.move_to_end(key)
            ident, y0 = seen
            dy = round(float(y) - y0, 4)
            return f'<use href="#{ident}"/>' if dy == 0 else f'<use href="#{ident}" y="{dy:g}"/>'
        ident = f"h{self._ids}"
        self._ids += 1
        self.rows[key] = (ident, float(y))
        if len(self.rows) > self.ROWS_KEPT:
            self.rows.popitem(last=False)
        return f'<g id="{ident}">{markup}</g>'


_STYLE_BLOCK = re.compile(r"<style>(.*?)</style>", re.S)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
_RULE = re.compile(r"\.(s\d+-[\w-]+)\s*\{([^}]*)\}")
_CLASS = re.compile(r'class="(s\d+-[\w-]+)"')
#: One background rectangle (group 1: y) or one text (group 2: y) of a terminal row.
_ROW_ITEM = re.compile(
    r'<rect fill="#[0-9a-fA-F]{6}" x="[\d.]+" y="([\d.]+)"[^>]*/>'
    r'|<text class="[\w-]+" x="[\d.]+" y="([\d.]+)"[^>]*>[^<]*</text>'
)
_ROWS = re.compile(f"(?:{_ROW_ITEM.pattern})+")


def _strip_comments(svg: str) -> str:
    start = svg.find("<!--")
    while start != -1:
        end = svg.find("-->", start)
        if end == -1:
            break
        svg = svg[:start] + svg[end + 3 :]
        start = svg.find("<!--")
    return svg


def _authored(sc: dict[str, Any], key: str, lang: str) -> str:
    """The scenario's ``key`` (title, description) in ``lang``, English when not given."""
    ko = sc.get(f"{key}_ko")
    return ko if lang == "ko" and isinstance(ko, str) and ko else str(sc.get(key, ""))


def page_head(header: dict[str, Any], lang: str = "en") -> str:
    """The page up to the first step: title, style, the scenario's description, in
    ``lang`` (``<html lang>`` says it, so a browser picks a font for its script)."""
    sc = header.get("scenario", {})
    title = f"ipcviz · {sc.get('id', '')} · {_authored(sc, 'title', lang)}"
    meta = translate("scenario {id} · teaches {points} · recorded {start} on {host}", lang).format(
        id=_e(sc.get("id", ""), 80),
        points=_e(" ".join(map(str, sc.get("teaches", []))), 200),
        start=_e(header.get("start", ""), 80),
        host=_e(header.get("host", ""), 80),
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}"><head><meta charset="utf-8">',
            f"<title>{_e(title, 200)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<header><h1>{_e(_authored(sc, 'title', lang), 200)}</h1>",
            f'<p class="meta">{meta}</p>',
            f"<p>{_e(_authored(sc, 'description', lang), 4000)}</p></header>",
        ]
    )


def page_step(shot: Shot, pictures: PagePictures | None = None, lang: str = "en") -> str:
    """One step's section: its picture, its narration beside it (the page's language
    first, the other after). With ``pictures`` (one per page, given every step in order)
    the picture carries only what earlier ones did not."""
    info = shot.info
    tags = "".join(f'<span class="tag">{_e(t, 8)}</span>' for t in info.get("teaches", []))
    texts = [f'<p lang="en">{_e(info.get("en", shot.step))}</p>']
    if info.get("ko"):
        ko = f'<p lang="ko">{_e(info["ko"])}</p>'
        texts = [ko, *texts] if lang == "ko" else [*texts, ko]
    end = (
        translate(" · picture at its end, {t} s", lang).format(t=f"{shot.end_t:.4f}")
        if shot.at >= 0
        else ""
    )
    narrated = translate("narrated at {t} s by {who}{end}", lang).format(
        t=f"{shot.t:.4f}", who=_e(shot.who, 60), end=end
    )
    parts = [
        f'<section class="step" id="step-{shot.n}">',
        '<div class="text">',
        f"<h2>{shot.n}. {_e(shot.step, 80)}</h2>",
        f"<p>{tags}</p>" if tags else "",
        *texts,
        f'<p class="meta">{narrated}</p>',
        "</div>",
        '<div class="shot">'
        + (
            compact_svg(_strip_comments(shot.svg), shot.n)
            if pictures is None
            else pictures.picture(shot.svg, shot.n)
        )
        + "</div>",
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


PAGE_END = "</body></html>\n"


def export_html(
    trace: Path,
    output: Path,
    force: bool = False,
    theme: str = DEFAULT_THEME,
    view: str = DEFAULT_VIEW,
    lang: str | None = None,
) -> int:
    """``ipcviz export TRACE --format html -o FILE``: one self-contained handout page.

    Written step by step as the pictures are drawn (into a new private file beside FILE,
    published at the end: ``ipcviz.export.files``), so memory stays flat however long the
    trace is; the page grows linearly with the steps.
    """
    from ipcviz.export.files import new_file

    count = 0
    pictures = PagePictures()
    page_lang = lang or "en"
    with new_file(output, force) as out:

        def head(header: dict[str, Any]) -> None:
            nonlocal page_lang
            page_lang = handout_lang(header, lang)
            out.write(page_head(header, page_lang) + "\n")

        def write(shot: Shot) -> None:
            nonlocal count
            out.write(page_step(shot, pictures, page_lang) + "\n")
            count += 1

        each_shot(trace, write, on_header=head, theme=theme, view=view, lang=lang)
        out.write(PAGE_END)
    print(_("wrote {path} ({n} step(s))").format(path=output, n=count))
    return 0
