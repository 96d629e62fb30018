"""ipcviz's colours, named once: the projector-readable palette every view draws with.

The TUI's stylesheets use the theme's variables (``$primary``, ``$frame``…, set from these
in ``ipcviz/tui/app.py``); rich Text drawn in Python (the TUI's cells, the SVG and HTML
handouts) uses the names here. Nothing else spells a colour.
"""

from __future__ import annotations

BLACK = "#000000"
WHITE = "#ffffff"
GOLD = "#ffd700"  # the theme's primary: titles, badges, the presenter's frame
CYAN = "#00d7ff"  # the theme's secondary
ORANGE = "#ff8700"  # the theme's accent: paused
AMBER = "#ffaf00"  # the theme's warning
RED = "#ff5f5f"  # the theme's error
GREEN = "#5fd700"  # the theme's success
PANEL = "#262626"
STATUS = "#303030"  # the status line
FRAME = "#8a8a8a"  # panel borders, muted names
LIGHT = "#d0d0d0"  # hints
SILVER = "#b2b2b2"  # dim text
SKY = "#87d7ff"  # kernel readings, teaching points
AQUA = "#5fd7ff"  # step marks, "next page"
STEEL = "#5fafff"  # stopped processes
PINK = "#ff8787"
ALARM = "#870000"  # deadlock and dead-holder banners
DANGER = "#d70000"  # an illegal trace
REACHED = "#005f00"  # a challenge reached
SHADOW = "#6c6c6c"  # dim edges, a taken semaphore
TUBE = "#5fafd7"  # a pipe's walls in the diagram
HOLE = "#3a3a3a"
EMPTY = "#4e4e4e"  # an empty cell
OLD = "#5f87af"  # a kernel reading older than the model's last change
GATE = "#87afff"  # a process held at its step gate
LIME = "#87ff5f"

#: One colour per process (by ``Proc.color``): bright, distinct, readable on black.
PROCESSES: tuple[str, ...] = (
    GOLD, CYAN, "#ff5fd7", LIME, ORANGE, "#af87ff", "#5fffd7", RED, "#d7ff00", "#5f87ff",
    "#ffafaf", "#e4e4e4",
)  # fmt: skip


def on(fg: str, bg: str, bold: bool = True) -> str:
    """A rich style string: ``fg`` on ``bg`` (a badge)."""
    return f"{'bold ' if bold else ''}{fg} on {bg}"


def bold(color: str) -> str:
    return f"bold {color}"
