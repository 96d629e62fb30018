"""The model: a pure reducer from events to state. Knows no Textual and no kernel.

``apply`` and ``State`` are loaded on first use: the mechanisms' model halves import
``ipcviz.model.state`` while the reducer imports them (through the registry).
"""

from __future__ import annotations

from typing import Any

__all__ = ["State", "apply", "apply_all"]


def __getattr__(name: str) -> Any:
    if name in ("apply", "apply_all"):
        from ipcviz.model import reducer

        return getattr(reducer, name)
    if name == "State":
        from ipcviz.model.state import State

        return State
    raise AttributeError(name)
