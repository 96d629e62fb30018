"""Record codes live in the mechanism packages (``<type>/codes.py``) and the registry
assembles the one table (issue 14). That no module outside a type's package names the
type is ``tests/mechanisms/test_registry.py``'s grep; this one greps for ``Code(...)``."""

from __future__ import annotations

import re
from pathlib import Path

from ipcviz.mechanisms import registry
from ipcviz.tracer import codes as C

SRC = Path(__file__).resolve().parents[2] / "ipcviz"
FILES = {p: p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}


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
