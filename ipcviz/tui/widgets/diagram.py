"""The diagram view's widget: the lecture figure, live (``v`` in the session screen).

A line-rendering widget: ``diagram_layout.diagram_lines`` (no Textual) draws the model at
the widget's size, ``render_line`` hands out its rows as ``Strip``s. Redrawn only when the
model or the size changed.
"""

from __future__ import annotations

from typing import Any

from ipcviz.draw.diagram_layout import diagram_lines
from ipcviz.i18n import _
from ipcviz.model.state import State
from ipcviz.tui.widgets.panels import LineWidget


class DiagramView(LineWidget):
    """Processes, kernel objects and the edges between them, filling its region."""

    DEFAULT_CSS = """
    DiagramView { height: 1fr; width: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key: tuple[Any, ...] | None = None
        self._state: State | None = None  # the last state synced

    def sync(self, state: State, force: bool = False) -> None:
        """Draw ``state`` again if it, or the widget's size, changed since the last time."""
        self._state = state
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return
        zoomed = self.screen.has_class("-zoom")
        key = (id(state), state.seq, state.count, len(state.procs), width, height, zoomed)
        if not force and key == self._key:
            return
        self._key = key
        # the table it falls back to says how to give the figure the whole height
        more = "" if zoomed else " · " + _("z: the whole height")
        self.lines = diagram_lines(state, width, height, more)
        self.refresh()

    def on_resize(self) -> None:
        """Drawn again for the new size now: a replay standing still draws no frame while
        a panel above (the end's checks) takes rows from the diagram."""
        self._key = None
        if self._state is not None:
            self.sync(self._state)
