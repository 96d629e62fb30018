"""Exporters: a recorded trace turned into another tool's format (``ipcviz export``).

Formats are registered in :data:`FORMATS` by name, so an exporter added later (svg, html)
plugs in with one ``register`` call and the CLI needs no change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

#: ``(trace, output, force[, theme, view]) -> exit code``; raises IpcvizError (TraceError)
#: for bad input. ``force``: ``output`` may be replaced (without it an existing ``output`` is
#: refused; ``ipcviz.export.files`` does both for the built-in formats). ``theme``
#: (``light``/``dark``) and ``view`` (``diagram``/``detail``) are passed only when the user
#: chose them (None: the format's default), and matter to pictures only.
Exporter = Callable[..., int]


def _perfetto(trace: Path, output: Path, force: bool, *_picture: str | None) -> int:
    from ipcviz.export.perfetto import export_perfetto

    return export_perfetto(trace, output, force)


def _svg(
    trace: Path,
    output: Path,
    force: bool,
    theme: str | None = None,
    view: str | None = None,
    lang: str | None = None,
) -> int:
    from ipcviz.export.svg import DEFAULT_THEME, DEFAULT_VIEW, export_svg

    return export_svg(trace, output, force, theme or DEFAULT_THEME, view or DEFAULT_VIEW, lang)


def _html(
    trace: Path,
    output: Path,
    force: bool,
    theme: str | None = None,
    view: str | None = None,
    lang: str | None = None,
) -> int:
    from ipcviz.export.html import export_html
    from ipcviz.export.svg import DEFAULT_THEME, DEFAULT_VIEW

    return export_html(trace, output, force, theme or DEFAULT_THEME, view or DEFAULT_VIEW, lang)


FORMATS: dict[str, Exporter] = {"perfetto": _perfetto, "svg": _svg, "html": _html}


def register(fmt: str, exporter: Exporter) -> None:
    """Make ``ipcviz export --format fmt`` call ``exporter``."""
    FORMATS[fmt] = exporter


def export(
    trace: Path,
    fmt: str,
    output: Path,
    force: bool = False,
    theme: str | None = None,
    view: str | None = None,
    lang: str | None = None,
) -> int:
    """Export ``trace`` as ``fmt`` into ``output``; returns the CLI's exit code. ``lang``:
    the handout's language when the user chose one (None: the run's)."""
    exporter = FORMATS.get(fmt)
    if exporter is None:
        raise IpcvizError(
            _("export format {fmt} is not available yet (available: {formats})").format(
                fmt=repr(fmt), formats=", ".join(sorted(FORMATS))
            )
        )
    if (theme is not None or view is not None) and fmt == "perfetto":
        raise IpcvizError(
            _("--theme and --view are for pictures (svg, html); perfetto has its own")
        )
    if lang is not None and fmt in ("svg", "html"):  # the handouts: words on the page
        return exporter(Path(trace), Path(output), force, theme, view, lang)
    if theme is None and view is None:  # (an exporter registered later may take neither)
        return exporter(Path(trace), Path(output), force)
    return exporter(Path(trace), Path(output), force, theme, view)
