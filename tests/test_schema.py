"""One schema of event kinds: everything that makes, reads or documents events agrees with it.

Each kind is described once (``events/schema.py`` for the engine's, ``Family.kinds`` and
``Mechanism.probe_fields`` in each mechanism's package). These tests hold the producers
(tracer codes, the engine's ``emit`` calls), the consumers (reducer, narrator, exporters)
and the docs to that one list, so a kind added in one place and forgotten in another fails
here rather than passing unchecked through the trace reader.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ipcviz.events import schema
from ipcviz.events.validate import KINDS, Validator
from ipcviz.mechanisms import registry
from ipcviz.model.reducer import HANDLERS
from ipcviz.narrate.headless import _FORMATS
from ipcviz.tracer import codes

ROOT = Path(__file__).resolve().parent.parent


def _emitted_literals() -> set[str]:
    """Every kind the code emits by name: ``emit("kind", …)`` and ``"kind": "…"`` literals."""
    found: set[str] = set()
    for path in (ROOT / "ipcviz").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "emit"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(k, ast.Constant)
                        and k.value == "kind"
                        and isinstance(v, ast.Constant)
                        and isinstance(v.value, str)
                    ):
                        found.add(v.value)
    return found


def test_every_kind_a_worker_records_is_in_the_schema() -> None:
    assert {c.kind for c in codes.TABLE.values()} <= set(KINDS)


def test_every_kind_the_engine_emits_by_name_is_in_the_schema() -> None:
    emitted = _emitted_literals()
    assert emitted, "the scan found no emit() call: it no longer sees the engine"
    assert emitted - set(KINDS) == set()


def test_every_kind_the_reducer_and_the_narrator_know_is_in_the_schema() -> None:
    handled = {k for k in HANDLERS if not k.endswith("*")}
    assert handled - set(KINDS) == set()
    assert set(_FORMATS) - set(KINDS) == set()
    assert set(registry.words()) - set(KINDS) == set()


def test_every_mechanism_kind_is_defined_by_its_own_family() -> None:
    """A family handles, words and orders only kinds its own schema lists."""
    for family in registry.families():
        own = set(family.kinds)
        assert set(family.handlers) <= own, family.name
        assert set(family.rules) <= own, family.name
        assert set(family.words) <= own, family.name
        assert family.observers <= own and family.refers <= own, family.name
    for m in registry.MECHANISMS:
        assert m.probe_kind.startswith(schema.PROBE_PREFIX) and m.probe_fields, m.type


def test_no_kind_is_defined_twice() -> None:
    engine = set(schema.ENGINE_KINDS)
    seen: dict[str, str] = {}
    for family in registry.families():
        for kind in family.kinds:
            assert kind not in engine, kind
            assert kind not in seen, (kind, family.name, seen.get(kind))
            seen[kind] = family.name


def test_every_kind_is_documented() -> None:
    doc = (ROOT / "docs" / "trace-format.md").read_text()
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_*]+)*)`", doc))
    missing = sorted(k for k in KINDS if k not in documented)
    assert not missing, f"docs/trace-format.md does not describe {missing}"


def test_the_validator_uses_the_schema_fields() -> None:
    """A field the schema types is checked; a required one is demanded (one line each)."""
    v = Validator(references=False)
    base = {"t": 1, "seq": 0, "pid": 7}
    assert (
        v.check({**base, "kind": "pipe.write", "obj": "p", "n": "x"})
        == "'n' must be an integer, not a string"
    )
    assert v.check({**base, "kind": "sem.post"}) == "has no 'obj'"
    assert (
        v.check({**base, "kind": "probe.snapshot", "why": 3}) == "'why' must be a string, not int"
    )
    assert v.check({**base, "kind": "a.kind.from.a.newer.version", "x": 1}) is None
    # a stamp, a sequence number or a pid is never a boolean (``true`` would pass for 1)
    for field in ("t", "seq", "pid"):
        assert (
            v.check({**base, field: True, "kind": "proc.exit"})
            == f"'{field}' must be an integer, not a boolean"
        )
