"""Handouts: one SVG screenshot of the session screen per narration step.

The trace is replayed into the model by its :class:`~ipcviz.replay.TraceIndex` (never into
the kernel: nothing runs), and the real session screen is drawn headless by Textual
(``App.run_test``) at the END of each step: just before the next step is narrated (the
last step: just before the objects are removed). A step is narrated before its action
("the writer fills the pipe"), so its picture shows the action done (the pipe full), the
screen the lecture hall saw when the presenter pressed → for the next step.
``export_html`` puts the pictures in one self-contained page, one printed page per step
with its narration.

Themes: ``light`` (the default for handouts: they are printed) draws the same picture with
every colour's lightness inverted in OKLab (hues kept: black paper becomes white, white
text black, dark grey panels pale grey, a bright yellow badge a darker one with white
text); ``dark`` is the projector's screen as it is.
Every picture names a CJK-capable monospace font family, so Korean narration is drawn.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ipcviz import bytefmt
from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

if TYPE_CHECKING:
    from ipcviz.replay import TraceIndex

#: Terminal size of a handout picture (columns, rows): wide enough for the two-column layout.
SIZE = (160, 48)
#: How many events the picture's event log shows (the last ones before the step).
LOG_EVENTS = 200
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
#: Rich's SVG asks a CDN for its font; handouts must work offline, so only local() stays.
_FONT_URL = re.compile(r',\s*url\("https?://[^"]*"\)\s*format\("[^"]*"\)')
#: Handout themes (``ipcviz export --theme``); light is the default: handouts are printed.
THEMES = ("light", "dark")
DEFAULT_THEME = "light"
#: What a handout picture shows (``ipcviz export --view``): the lecture figure, as presenter
#: mode does, or the detail panels of the session screen.
VIEWS = ("diagram", "detail")
DEFAULT_VIEW = "diagram"
#: The terminal font, then monospace fonts that have Hangul and CJK (whichever is installed).
MONO_FONTS = (
    '"Fira Code", "DejaVu Sans Mono", "Noto Sans Mono CJK KR", "Noto Sans CJK KR", '
    '"D2Coding", "NanumGothicCoding", "Source Han Mono", "Malgun Gothic", '
    '"Apple SD Gothic Neo", monospace'
)
_MATRIX_FONT = re.compile(r"font-family: Fira Code, monospace;")
_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


@dataclass
class Shot:
    """One narration step as drawn: its number, id, texts and the SVG picture."""

    n: int
    step: str
    info: dict[str, Any]
    svg: str
    t: float = 0.0
    who: str = ""
    #: The event the picture was taken at (the step's end) and its time (s).
    at: int = -1
    end_t: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    #: The event log as drawn in the picture (plain text): what a test can read back.
    log: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.n:02d}-{_SAFE_NAME.sub('_', self.step)[:40] or 'step'}.svg"


def offline_svg(svg: str) -> str:
    """The SVG without the web font URLs (local fonts, then monospace, are used), naming
    CJK-capable fonts after the terminal's own."""
    return _MATRIX_FONT.sub(f"font-family: {MONO_FONTS};", _FONT_URL.sub("", svg))


def themed_svg(svg: str, theme: str) -> str:
    """The picture in ``theme``: ``dark`` as drawn, ``light`` with lightness inverted."""
    if theme == "dark":
        return svg
    return _HEX.sub(lambda m: "#" + invert_lightness(m.group(1)), svg)


def invert_lightness(rgb: str) -> str:
    """``"ffd700"`` → the same hue with OKLab lightness ``sqrt(1 - L)`` (chroma scaled to fit).

    OKLab, not HSL: its L is the lightness people see, so contrast between a text and its
    background survives the inversion (HSL would put black on bright yellow at the same
    lightness as white on it)."""
    r, g, b = (int(rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    lab = _oklab(r, g, b)
    # 1 - L, then lifted (a square root): the projector's dark greys become pale paper
    # greys instead of mid-greys; the order of lightness, so contrast, is kept
    light = max(0.0, 1.0 - lab[0]) ** 0.5
    for scale in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0):  # keep the hue, lose chroma to stay in gamut
        out = _from_oklab(light, lab[1] * scale, lab[2] * scale)
        if all(-1e-6 <= c <= 1 + 1e-6 for c in out):
            break
    return "".join(f"{round(min(1.0, max(0.0, c)) * 255):02x}" for c in out)


def _lin(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    c = max(0.0, c)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _oklab(r: float, g: float, b: float) -> tuple[float, float, float]:
    r, g, b = _lin(r), _lin(g), _lin(b)
    l_ = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b) ** (1 / 3)
    m_ = (0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b) ** (1 / 3)
    s_ = (0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b) ** (1 / 3)
    return (
        0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
        1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
        0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_,
    )


def _from_oklab(light: float, a: float, b: float) -> tuple[float, float, float]:
    l_ = (light + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (light - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (light - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return (
        _gamma(4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_),
        _gamma(-1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_),
        _gamma(-0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_),
    )


def shot_moments(index: TraceIndex) -> list[tuple[int, int]]:
    """``(narration event, picture event)`` per step: the picture is taken at the end of the
    step, on the event just before the next narration; the last step's just before the
    objects are removed (or the last event), so it shows the final state, not an empty one."""
    marks = list(index.narrations)
    ends = [nxt - 1 for nxt in marks[1:]]
    last = len(index) - 1
    for i, e in enumerate(index.events(marks[-1], len(index)), marks[-1]):
        if e.get("kind") in ("obj.remove", "session.end"):
            last = i - 1
            break
    return list(zip(marks, [*ends, max(marks[-1], last)], strict=True))


def each_shot(
    trace: Path,
    on_shot: Callable[[Shot], None],
    size: tuple[int, int] = SIZE,
    on_header: Callable[[dict[str, Any]], object] | None = None,
    theme: str = DEFAULT_THEME,
    view: str = DEFAULT_VIEW,
    index: TraceIndex | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Call ``on_shot`` with each narration step's :class:`Shot` as it is drawn; returns the
    header. The model at each step comes from the trace's :class:`TraceIndex` (offsets and
    checkpoints, walked forward with one cursor), and each shot is handed on at once, so
    memory does not grow with the number of steps (a long lecture is written as it is made)."""
    index = handout_index(trace) if index is None else index
    if on_header is not None:
        on_header(index.header)
    asyncio.run(_shoot(index, size, on_shot, theme, view, handout_lang(index.header, lang)))
    return index.header


def with_lang(svg: str, lang: str) -> str:
    """The picture saying its language (``lang``/``xml:lang`` on the root): a viewer then
    picks a font for its script, Hangul included."""
    return svg.replace("<svg ", f'<svg lang="{lang}" xml:lang="{lang}" ', 1)


def handout_lang(header: dict[str, Any], lang: str | None = None) -> str:
    """The language of a handout: the one asked for, else the run's (its header's)."""
    from ipcviz.i18n import LANGS

    chosen = lang or header.get("lang")
    return chosen if isinstance(chosen, str) and chosen in LANGS else "en"


def handout_index(trace: Path) -> TraceIndex:
    """The trace read through (every line checked) and indexed, with one narration step at
    least: a bad trace is refused here, before anything is written or replaced."""
    from ipcviz.replay import TraceIndex

    index = TraceIndex.open(trace).build()  # TraceError (an IpcvizError, exit 2): bad input
    if not index.narrations:
        raise IpcvizError(
            _("{path}: the trace has no narration steps: no handout to make").format(
                path=bytefmt.safe_text(str(trace), 300)
            )
        )
    return index


def screenshots(
    trace: Path,
    size: tuple[int, int] = SIZE,
    theme: str = DEFAULT_THEME,
    view: str = DEFAULT_VIEW,
) -> tuple[dict[str, Any], list[Shot]]:
    """The trace's header and one :class:`Shot` per narration step, in order (in memory:
    for tests and small traces; the exporters stream with :func:`each_shot`)."""
    shots: list[Shot] = []
    header = each_shot(trace, shots.append, size, theme=theme, view=view)
    return header, shots


async def _shoot(
    index: TraceIndex,
    size: tuple[int, int],
    on_shot: Callable[[Shot], None],
    theme: str,
    view: str = DEFAULT_VIEW,
    lang: str = "en",
) -> int:
    """Draw every step's picture, in ``lang`` (the one language of the process meanwhile:
    the screen's labels are worded in the language chosen)."""
    from ipcviz import i18n

    was = i18n.get_lang()
    i18n.set_lang(lang)
    try:
        return await _shoot_in(index, size, on_shot, theme, view, lang)
    finally:
        i18n.set_lang(was)


async def _shoot_in(
    index: TraceIndex,
    size: tuple[int, int],
    on_shot: Callable[[Shot], None],
    theme: str,
    view: str,
    lang: str,
) -> int:
    from ipcviz.draw.eventfmt import LogWindow
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.screens.session import SessionScreen
    from ipcviz.tui.widgets.panels import EventLog

    header = index.header
    cursor = index.cursor()  # the model at each step: steps only go forward
    # the picture's log: the last events before the step, each worded from its own moment
    window = LogWindow(header, index.state_at, index.events, LOG_EVENTS)
    app = IpcvizApp(state=cursor.seek(-1), lang=lang)
    steps = {s.get("id"): s for s in header.get("scenario", {}).get("steps", [])}
    title = "ipcviz · {} · {}".format(header.get("scenario", {}).get("id", ""), _("step"))
    n = 0
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        screen.stop()  # no frame timer: each picture is drawn once, below, not 15 times a second
        if (view == "diagram") != screen.diagram_shown:
            screen.action_toggle_view()
        for n, (i, at) in enumerate(shot_moments(index), 1):
            screen.set_log_lines(list(window.at(at)))
            state = cursor.seek(at)
            before = _sizes(screen)
            screen.show_state(state)
            await pilot.pause()
            for _retry in range(3):  # the new state moved the layout: draw again at the new sizes
                after = _sizes(screen)
                if after == before:
                    break
                before = after
                screen.redraw(True)
                await pilot.pause()
            event = index.event(i)
            step = str(event.get("step", ""))
            svg = app.export_screenshot(title=bytefmt.safe_text(f"{title} {n}: {step}", 120))
            on_shot(
                Shot(
                    n,
                    step,
                    steps.get(step, {}),
                    with_lang(themed_svg(offline_svg(svg), theme), lang),
                    t=event.get("t", 0) / 1e9,
                    who=state.proc_name(event.get("pid", 0)),
                    log=screen.query_one(EventLog).plain_lines(),
                    at=at,
                    end_t=index.event(at).get("t", 0) / 1e9,
                )
            )
        app.exit(None)
    return n


def _sizes(screen: Any) -> list[Any]:
    """Every widget's region: a panel's text is cut to the width it had when drawn."""
    return [w.region for w in screen.walk_children()]


def export_svg(
    trace: Path,
    output: Path,
    force: bool = False,
    theme: str = DEFAULT_THEME,
    view: str = DEFAULT_VIEW,
    lang: str | None = None,
) -> int:
    """``ipcviz export TRACE --format svg -o DIR``: DIR/NN-STEP.svg for every step.

    Files are created new in DIR (``ipcviz.export.files``); ``--force`` replaces only the
    files an earlier export wrote there and says which other files it kept.
    """
    from ipcviz.export.files import ExportDir

    index = handout_index(trace)  # a bad trace: refused before an earlier export is replaced
    out = ExportDir(output, force).open()
    try:
        each_shot(
            trace,
            lambda shot: out.write(shot.filename, shot.svg),
            theme=theme,
            view=view,
            index=index,
            lang=lang,
        )
        out.finish()
    except BaseException:  # a bad line further on: no half set of pictures is left
        out.abandon()
        raise
    if out.removed:
        print(_("replaced an earlier export: removed its {n} file(s)").format(n=len(out.removed)))
    kept = out.kept_line()
    if kept:
        print(f"ipcviz: {kept}", file=sys.stderr)
    print(_("wrote {n} SVG file(s) to {path}").format(n=len(out.written), path=output))
    return 0
