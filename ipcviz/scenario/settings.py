"""``--set KEY=VALUE``: change a scenario's settings for one run (e.g. fewer increments, so
a search over interleavings stays small). Shared by ``run``, ``explore`` and the engine."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ipcviz.errors import IpcvizError


def parse_settings(pairs: Iterable[str]) -> dict[str, Any]:
    """``["increments=3", "name=x"]`` → ``{"increments": 3, "name": "x"}`` (JSON values,
    else the text itself)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise IpcvizError(f"--set {pair!r}: want KEY=VALUE, e.g. --set increments=3")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        out[key] = value
    return out


def apply_settings(scenario: Any, values: dict[str, Any]) -> None:
    """Override the scenario's settings (its normal and its ``--quick`` ones); a key the
    scenario does not have is a usage error, not silently ignored."""
    unknown = sorted(set(values) - set(scenario.params) - set(scenario.quick))
    if unknown:
        known = ", ".join(sorted(set(scenario.params) | set(scenario.quick))) or "none"
        raise IpcvizError(
            f"--set: scenario {scenario.id} has no setting {', '.join(unknown)} "
            f"(its settings: {known})"
        )
    for key, value in values.items():
        scenario.params[key] = value
        if key in scenario.quick:
            scenario.quick[key] = value


def settings_args(values: dict[str, Any]) -> list[str]:
    """The ``--set`` arguments that give these values again (for a printed command line)."""
    return [f"--set {k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items()]
