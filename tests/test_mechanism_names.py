"""Each kernel-object type is named, as a string, only inside its own mechanism package and
the registry (issue 14): the engine, the model, the views and the exporters ask the
registry. A grep over the source tree, so a new ``if obj.type == "pipe"`` fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ipcviz.mechanisms import registry
from ipcviz.tracer import codes as C

SRC = Path(__file__).resolve().parent.parent / "ipcviz"
FILES = {p: p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}


@pytest.mark.parametrize("type_", registry.TYPES)
def test_a_type_string_only_in_its_package_and_the_registry(type_: str) -> None:
    literal = re.compile(rf"""(["']){re.escape(type_)}\1""")
    own = SRC / "mechanisms" / type_
    allowed = {SRC / "mechanisms" / "registry.py"}
    strays = [
        f"{path.relative_to(SRC.parent)}:{text.count(chr(10), 0, m.start()) + 1}"
        for path, text in FILES.items()
        if own not in path.parents and path not in allowed
        for m in literal.finditer(text)
    ]
    assert not strays, f"{type_!r} named outside ipcviz/mechanisms/{type_}/: {strays}"
    assert any(literal.search(t) for p, t in FILES.items() if own in p.parents), (
        f"the grep finds nothing: {type_!r} should be named in its own package"
    )


def test_record_codes_are_defined_only_in_the_mechanisms_and_the_session() -> None:
    """Every ``Code(...)`` is in tracer/codes.py (the session's) or a mechanism's codes.py."""
    made = re.compile(r"\bCode\(\s*[\"']")
    places = {p.relative_to(SRC).as_posix() for p, t in FILES.items() if made.search(t)}
    assert places == {"tracer/codes.py"} | {
        f"mechanisms/{m.type}/codes.py" for m in registry.MECHANISMS if m.codes is not None
    }


def test_the_registry_assembles_one_table() -> None:
    table = registry.codes()
    assert set(C.GENERIC) <= set(table)
    for m in registry.MECHANISMS:
        if m.codes is not None:
            assert m.codes.CODES.items() <= table.items()
            assert m.codes.COMPLETES.items() <= registry.code_completes().items()
    # every completion's begin is a code of the table, of the same operation
    for done, begin in registry.code_completes().items():
        assert table[begin].kind == table[done].kind + ".begin"
    # the old names still read the same table
    assert C.TABLE is table and C.COMPLETES is registry.code_completes()
    assert C.PIPE_WRITE in table and C.READ_END == 0
