"""Finding scenarios: built-in ones by id, a user's own by file path."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

from ipcviz.errors import ScenarioError
from ipcviz.i18n import _
from ipcviz.scenario.api import Scenario


def builtin_dir() -> Path:
    """Built-in scenarios: ``ipcviz/scenarios`` in a wheel, ``scenarios/`` in a checkout."""
    pkg = Path(__file__).resolve().parent.parent
    installed = pkg / "scenarios"
    return installed if installed.is_dir() else pkg.parent / "scenarios"


def builtin_files() -> list[Path]:
    return sorted(p for p in builtin_dir().glob("*.py") if not p.name.startswith("_"))


def resolve(spec: str) -> Path:
    """A scenario id (``pipe-basic``) or a path to a ``.py`` file → the file to load."""
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ScenarioError(_("no such scenario file: {spec}").format(spec=spec))
        return path.resolve()
    path = builtin_dir() / (spec.replace("-", "_") + ".py")
    if path.is_file():
        return path
    known = ", ".join(
        [p.stem.replace("_", "-") for p in builtin_files()]
        + [f"c/{p.stem.replace('_', '-')}" for p in c_scenario_files()]
    )
    raise ScenarioError(
        _("unknown scenario {spec!r} (built-in: {known}; or give a FILE.py)").format(
            spec=spec, known=known
        )
    )


def load(path: Path) -> Scenario:
    """Import a scenario file and return its ``Scenario``; any error becomes ScenarioError."""
    # a C example's scenario (c/NAME.py) shares its stem with a Python one
    name = f"ipcviz_scenario_{'c_' if path.parent.name == 'c' else ''}{path.stem}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ScenarioError(_("{path}: not a Python file").format(path=path))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except ScenarioError:
        raise
    except SyntaxError as exc:
        raise ScenarioError(
            _("{path}:{lineno}: syntax error: {msg}").format(
                path=path, lineno=exc.lineno, msg=exc.msg
            )
        ) from None
    except (Exception, SystemExit) as exc:  # sys.exit() or exit() at import: no scenario
        raise ScenarioError(
            _("{path}: {where}{error}: {exc}").format(
                path=path, where=_where(exc, path), error=type(exc).__name__, exc=exc
            )
        ) from None
    found = [v for v in vars(module).values() if isinstance(v, Scenario)]
    if len(found) != 1:
        raise ScenarioError(
            _("{path}: defines {n} Scenario objects, expected exactly one").format(
                path=path, n=len(found)
            )
        )
    scenario = found[0]
    scenario.source = str(path)
    # a C example's scenario (ipcviz/sources/strace/cscenario.py) watches one program
    if not scenario.processes and not getattr(scenario, "example", ""):
        raise ScenarioError(
            _("{path}: scenario {id!r} declares no processes").format(path=path, id=scenario.id)
        )
    return scenario


def _where(exc: BaseException, path: Path) -> str:
    """``line N: `` of the innermost frame in the scenario file, if any."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename) == path:
            return f"line {frame.lineno}: "
    return ""


def load_builtins() -> list[Scenario]:
    return [load(p) for p in builtin_files()]


def c_scenario_files() -> list[Path]:
    """The C examples' scenarios: ``scenarios/c/NAME.py`` beside ``NAME.c``."""
    folder = builtin_dir() / "c"
    found = folder.glob("*.py")
    return sorted(p for p in found if not p.name.startswith("_") and p.with_suffix(".c").is_file())


def load_listed() -> list[Scenario]:
    """What ``ipcviz list`` and the picker offer: the Python scenarios and the C examples."""
    return load_builtins() + [load(p) for p in c_scenario_files()]
