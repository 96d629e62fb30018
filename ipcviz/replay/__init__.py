"""Replay of recorded runs: random access into a trace, and the navigation of the replay view.

No Textual here and no kernel: replay reads the trace file only and never imports
scenario code. The TUI's replay screen drives a :class:`Player`.
"""

from ipcviz.replay.fingerprint import state_fingerprint
from ipcviz.replay.index import Cursor, TraceIndex
from ipcviz.replay.player import SPEEDS, Hidden, Player

__all__ = ["SPEEDS", "Cursor", "Hidden", "Player", "TraceIndex", "state_fingerprint"]
