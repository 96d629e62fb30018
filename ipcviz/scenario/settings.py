"""``--set KEY=VALUE``: change a scenario's settings for one run (e.g. fewer increments, so
a search over interleavings stays small). Shared by ``run``, ``explore`` and the engine."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from ipcviz.errors import IpcvizError
from ipcviz.i18n import _


def parse_settings(pairs: Iterable[str]) -> dict[str, Any]:
    """``["increments=3", "name=x"]`` → ``{"increments": 3, "name": "x"}`` (JSON values,
    else the text itself)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise IpcvizError(
                _("--set {pair!r}: want KEY=VALUE, e.g. --set increments=3").format(pair=pair)
            )
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
            _("--set: scenario {id} has no setting {names} (its settings: {known})").format(
                id=scenario.id, names=", ".join(unknown), known=known
            )
        )
    for key, value in values.items():
        value = checked(scenario, key, value)
        scenario.params[key] = value
        if key in scenario.quick:
            scenario.quick[key] = value


def settings_args(values: dict[str, Any]) -> list[str]:
    """The ``--set`` arguments that give these values again (for a printed command line)."""
    return [f"--set {k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items()]


def _type_name(default: Any) -> str:
    """The type a setting's default declares, as ``list --json`` names it."""
    for kind, name in (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "str"),
        (list, "list"),
    ):
        if isinstance(default, kind):
            return name
    return "json"


def describe(scenario: Any) -> list[dict[str, Any]]:
    """The ``--set`` keys ``scenario`` accepts, for ``ipcviz list --json``: name, type (of
    its default, which a value must fit), default, the ``--quick`` default, the range a
    number must lie in (``min``/``max``; equal: fixed), and ``help`` in words."""
    out: list[dict[str, Any]] = []
    for name in sorted(set(scenario.params) | set(scenario.quick)):
        default = scenario.params.get(name, scenario.quick.get(name))
        entry: dict[str, Any] = {
            "name": name,
            "type": _type_name(default),
            "default": default,
            "quick": scenario.quick.get(name, default),
        }
        limits = scenario.limits.get(name)
        if limits is not None:
            entry["min"], entry["max"] = limits
        entry["help"] = _kind(default) + _range_words(limits)
        out.append(entry)
    return out


def _range_words(limits: tuple[float, float] | None) -> str:
    if limits is None:
        return ""
    lo, hi = limits
    if lo == hi:
        return f", fixed at {_num(lo)}"
    return f" from {_num(lo)} to {_num(hi)}"


def _kind(default: Any) -> str:
    """The type a setting's default declares, in words a user reads."""
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "text"
    if isinstance(default, list):
        inner = _kind(default[0]) if default else "anything"
        return f"a JSON list of {inner}"
    return "a JSON value"


def _fits(default: Any, value: Any) -> Any:
    """``value`` as the type of ``default``, or raise ValueError."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if number and math.isfinite(value):
            return float(value)
    elif isinstance(default, str):
        return value if isinstance(value, str) else json.dumps(value)
    elif isinstance(default, list):
        if isinstance(value, list):
            return [_fits(default[0], v) for v in value] if default else value
    else:
        return value
    raise ValueError


def checked(scenario: Any, key: str, value: Any) -> Any:
    """``value`` checked against the setting's declaration: the type of its default, and
    the scenario's ``limits`` (range); an IpcvizError (one line, exit 2) when it does not
    fit, before any process runs (a wrong type failed deep inside a worker, a negative
    count ran and "passed" its checks)."""
    default = scenario.params.get(key, scenario.quick.get(key))
    shown = value if isinstance(value, str) else json.dumps(value)
    try:
        value = _fits(default, value)
    except ValueError:
        raise IpcvizError(
            _("--set {key}={shown}: {key} is {kind} (default {dumps})").format(
                key=key, shown=shown, kind=_kind(default), dumps=json.dumps(default)
            )
        ) from None
    limits = scenario.limits.get(key)
    if limits is not None:
        lo, hi = limits
        values = value if isinstance(value, list) else [value]
        if not all(lo <= v <= hi for v in values if isinstance(v, (int, float))):
            if lo == hi:
                why = f"{key} is fixed at {_num(lo)} in scenario {scenario.id}"
            else:
                why = f"{key} must be between {_num(lo)} and {_num(hi)}"
            raise IpcvizError(_("--set {key}={shown}: {why}").format(key=key, shown=shown, why=why))
    return value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"
