"""The model: a pure reducer from events to state. Knows no Textual and no kernel."""

from ipcviz.model.reducer import apply, apply_all
from ipcviz.model.state import State

__all__ = ["State", "apply", "apply_all"]
