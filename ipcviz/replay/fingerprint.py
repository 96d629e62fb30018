"""A plain, comparable picture of a model state: for "step back is exact" checks.

Two states are the same state when their fingerprints are equal. The fingerprint is built
from every field of every dataclass, so a field added to the model later is compared too.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from typing import Any

from ipcviz.model.state import State


def state_fingerprint(state: State) -> dict[str, Any]:
    """Every field of ``state`` except the (shared, immutable) header, as plain data."""
    return {
        f.name: _plain(getattr(state, f.name))
        for f in dataclasses.fields(state)
        if f.name != "header"
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "__class__": type(value).__name__,
            **{f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, Counter):
        return {"__counter__": sorted((repr(k), v) for k, v in value.items() if v)}
    if isinstance(value, dict):
        return {repr(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, deque)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": bytes(value).hex()}
    return value
