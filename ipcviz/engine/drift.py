"""Model-vs-kernel drift: a disagreement is reported only when it cannot be an operation in flight.

A probe is compared with the model only at a quiet point: no process is in the middle of an
operation on the object (except one the kernel shows asleep on it, waiting), the model of the
object did not change since the previous probe, and the same disagreement was seen by two
probes in a row. Then it is real: something changed the object behind the wrappers' back
(a raw ``os.write``), or ipcviz has a bug. Either way it is worth showing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

Diff = tuple[str, Any, Any]  # field, model value, kernel value


class DriftDetector:
    """Feed one comparison per object per sweep; emits ``drift`` events through ``emit``."""

    def __init__(self, emit: Callable[..., Any]) -> None:
        self._emit = emit
        self._prev: dict[str, tuple[Hashable, Diff | None]] = {}
        self.active: dict[str, Diff] = {}

    def observe(
        self, obj: str, quiet: bool, signature: Hashable, pairs: list[tuple[str, Any, Any]]
    ) -> None:
        """``pairs``: (field, model value, kernel value); ``signature``: the model's version."""
        if not quiet:
            self._prev.pop(obj, None)
            return
        diff = next(((f, m, k) for f, m, k in pairs if m != k), None)
        prev = self._prev.get(obj)
        self._prev[obj] = (signature, diff)
        if diff is None:
            if obj in self.active:
                del self.active[obj]
                self._emit("drift", obj=obj, resolved=True)
            return
        if prev is None or prev != (signature, diff):
            return  # not yet confirmed by a second quiet probe
        if self.active.get(obj) != diff:
            self.active[obj] = diff
            self._emit("drift", obj=obj, field=diff[0], model=diff[1], kernel=diff[2])
