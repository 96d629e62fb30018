"""The mechanism registry: each type lives in its own package, nothing else names it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ipcviz.mechanisms import registry

ROOT = Path(__file__).resolve().parents[2] / "ipcviz"


def test_each_type_name_appears_only_in_its_package_and_the_registry():
    """Engine, model, views and exporters ask the registry: none names a type (issue 14)."""
    found: list[str] = []
    for t in registry.TYPES:
        pattern = re.compile(rf"""(["']){re.escape(t)}\1""")
        own = ROOT / "mechanisms" / t
        for path in sorted(ROOT.rglob("*.py")):
            if path.is_relative_to(own) or path == ROOT / "mechanisms" / "registry.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT.parent)}:{n}: {line.strip()}")
    assert found == []


def test_every_type_has_a_package_its_wrapper_and_its_engine_side():
    for t in registry.TYPES:
        mech = registry.get(t)
        assert mech is not None and mech.type == t
        assert (ROOT / "mechanisms" / t / "__init__.py").is_file()
        side = registry.kernel(t)
        assert side is not None and side.wrapper.type == t
        assert mech.probe_kind.startswith("probe.")


def test_the_model_imports_no_kernel_and_no_textual():
    """The model side of every mechanism loads without the engine side's kernel modules."""
    code = (
        "import sys, ipcviz.model, ipcviz.model.legal, ipcviz.mechanisms.registry;"
        "bad = [m for m in ('psutil', 'posix_ipc', 'sysv_ipc', 'textual', 'ipcviz.probe')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_drawing_toolkit_imports_no_textual_and_no_kernel():
    """``ipcviz/draw`` (rich Text from the model) is shared by the TUI, the mechanisms'
    views and the exports: it must load without Textual or the engine's kernel side."""
    mods = [f"ipcviz.draw.{p.stem}" for p in Path("ipcviz/draw").glob("*.py")]
    code = (
        f"import sys, {', '.join(mods)};"
        "bad = [m for m in ('psutil', 'posix_ipc', 'sysv_ipc', 'textual', 'ipcviz.probe',"
        " 'ipcviz.tui', 'ipcviz.engine') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_clean_keeps_a_dead_registry_that_names_a_type_it_does_not_know(tmp_path):
    """A newer ipcviz's session (a type this version has no mechanism for): ``clean``
    removes what it knows and keeps the registry, so the newer ``clean`` still can."""
    import json
    import os

    from ipcviz.session.cleanup import clean
    from ipcviz.session.registry import runtime_dir

    sid = "dead" + os.urandom(4).hex()[:4]
    reg = runtime_dir() / f"{sid}.json"
    entry = {"type": "some_future_type", "key": 1}
    reg.write_text(json.dumps({"sid": sid, "uid": os.getuid(), "objects": [entry]}))
    try:
        clean()
        assert reg.exists()
        reg.write_text(json.dumps({"sid": sid, "uid": os.getuid(), "objects": []}))
        clean()
        assert not reg.exists()
    finally:
        reg.unlink(missing_ok=True)
