"""What a Textual app shows, as plain text rows: the compositor's own strips (modal
screens over the screens below them included), so a test reads every panel, banner, title
and the footer as the eye does, cell for cell."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len


def screen_rows(app: Any) -> list[str]:
    """The screen's rows as the compositor made them (each exactly the screen's width)."""
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def char_at(row: str, x: int) -> str:
    """The character at cell column ``x`` of ``row`` ("" inside a wide character)."""
    col = 0
    for ch in row:
        if col == x:
            return ch
        col += cell_len(ch)
        if col > x:
            return ""
    return ""
