"""Exporters: a recorded trace turned into another tool's format (``ipcviz export``).

Formats are registered in :data:`FORMATS` by name, so an exporter added later (svg, html)
plugs in with one ``register`` call and the CLI needs no change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ipcviz.errors import IpcvizError

#: ``(trace, output, force) -> exit code``; raises IpcvizError (TraceError) for bad input.
#: ``force``: ``output`` may be replaced (without it an existing ``output`` is refused;
#: ``ipcviz.export.files`` does both for the built-in formats).
Exporter = Callable[[Path, Path, bool], int]


def _perfetto(trace: Path, output: Path, force: bool) -> int:
    from ipcviz.export.perfetto import export_perfetto

    return export_perfetto(trace, output, force)


def _svg(trace: Path, output: Path, force: bool) -> int:
    from ipcviz.export.svg import export_svg

    return export_svg(trace, output, force)


def _html(trace: Path, output: Path, force: bool) -> int:
    from ipcviz.export.html import export_html

    return export_html(trace, output, force)


FORMATS: dict[str, Exporter] = {"perfetto": _perfetto, "svg": _svg, "html": _html}


def register(fmt: str, exporter: Exporter) -> None:
    """Make ``ipcviz export --format fmt`` call ``exporter``."""
    FORMATS[fmt] = exporter


def export(trace: Path, fmt: str, output: Path, force: bool = False) -> int:
    """Export ``trace`` as ``fmt`` into ``output``; returns the CLI's exit code."""
    exporter = FORMATS.get(fmt)
    if exporter is None:
        raise IpcvizError(
            f"export format {fmt!r} is not available yet (available: {', '.join(sorted(FORMATS))})"
        )
    return exporter(Path(trace), Path(output), force)
