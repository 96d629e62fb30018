"""The sequential specification of every kernel object: which operation is legal when.

One rule set, used twice: by the engine, to put the operations it drains from the workers'
rings into an order the kernel could have produced (``engine/linearize.py``), and by
``ipcviz verify``, to check a finished trace. Each rule looks at the model's state *before*
the operation is applied (``model/reducer.py`` applies it) and answers ``None`` (legal) or
a short reason why the kernel could not have done it then, worded when shown
(``i18n.lazy``: ``ipcviz verify --lang ko`` says it in Korean).

The rules live with their mechanism (``ipcviz/mechanisms/<type>/model.py``); this module
gathers them through the registry. They are the objects' documented behaviour
(docs/trace-format.md, "Legal history"): bytes are read from a pipe in the order they were
written and never before; a queue holds no more than its limit and a receive takes the
message the kernel would select; a semaphore never goes below zero; a shared-memory read
returns what the latest write left there.
"""

from __future__ import annotations

from typing import Any

from ipcviz.i18n import Lazy
from ipcviz.mechanisms import registry
from ipcviz.mechanisms.base import Rule
from ipcviz.mechanisms.pipe.model import PIPE_BUF
from ipcviz.mechanisms.posix_mq.model import select_message
from ipcviz.model.state import State

Event = dict[str, Any]
__all__ = ["OBSERVERS", "PIPE_BUF", "RULES", "Rule", "select_message", "violation"]

#: Kinds that change no object state: they can be placed anywhere their value allows.
OBSERVERS = registry.observers()

#: kind → (state class the rule applies to, rule): each mechanism family's own rules
#: (``ipcviz/mechanisms/<type>/model.py``).
RULES: dict[str, tuple[type, Rule]] = registry.rules()


def violation(state: State, e: Event) -> Lazy | None:
    """Why the kernel could not have done ``e`` in ``state`` (``None``: it could)."""
    rule = RULES.get(e.get("kind", ""))
    if rule is None:
        return None
    obj = state.objects.get(e.get("obj", ""))
    if not isinstance(obj, rule[0]):
        return None
    return rule[1](obj, e)
